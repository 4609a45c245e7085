// Requantization bank and output-buffer writer shared by the conv and pool/eltwise units.
// A result of Lanes accumulators is requantized in one cycle (one requant unit per lane), then
// written as `words_i` consecutive L-byte words from `addr_i`, one word per cycle; with
// `partial_i` it is a single word whose lanes [lane_i, lane_i + PartLanes) are written (output
// channel groups narrower than a word). The producer spaces results at least `words_i` cycles
// apart, so the writer never needs to push back.
module gatec_out_writer #(
  parameter int unsigned Lanes     = 8,
  parameter int unsigned L         = 8,
  parameter int unsigned PartLanes = 8,
  parameter int unsigned AddrWidth = 16,
  localparam int unsigned LaneIdxWidth = (L > 1) ? $clog2(L) : 1,
  localparam int unsigned WordCntWidth = $clog2(Lanes / ((L < Lanes) ? L : Lanes) + 1),
  localparam int unsigned YIdxWidth = $clog2(Lanes * 8)
) (
  input  logic                         clk_i,
  input  logic                         rst_ni,
  input  logic                         valid_i,
  input  logic [Lanes*32-1:0]          acc_i,
  input  logic [Lanes*15-1:0]          mult_i,
  input  logic [Lanes*6-1:0]           shift_i,
  input  logic signed [7:0]            zp_i,
  input  logic signed [7:0]            lo_i,
  input  logic signed [7:0]            hi_i,
  input  logic [AddrWidth-1:0]         addr_i,
  input  logic [WordCntWidth-1:0]      words_i,
  // words after the first are at addr_i + k*stride_i (channel-word stride of the output)
  input  logic [AddrWidth-1:0]         stride_i,
  input  logic                         partial_i,
  input  logic [LaneIdxWidth-1:0]      lane_i,
  output logic                         busy_o,
  output logic                         we_o,
  output logic [AddrWidth-1:0]         waddr_o,
  output logic [L-1:0]                 wbe_o,
  output logic [L*8-1:0]               wdata_o
);
  // Every lane sees the same valid; lane 0's copy drives the writer.
  /* verilator lint_off UNUSEDSIGNAL */
  logic [Lanes-1:0]        rq_valid;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [Lanes*8-1:0]      y;
  logic [AddrWidth-1:0]    addr_q, stride_q, run_q;
  logic [WordCntWidth-1:0] words_q, word_q;
  logic                    partial_q, writing_q;
  logic [LaneIdxWidth-1:0] lane_q;

  for (genvar i = 0; i < Lanes; i++) begin : g_requant
    gatec_requant u_requant (
      .clk_i,
      .rst_ni,
      .valid_i (valid_i),
      .acc_i   (acc_i[i*32 +: 32]),
      .mult_i  (mult_i[i*15 +: 15]),
      .shift_i (shift_i[i*6 +: 6]),
      .zp_i,
      .lo_i,
      .hi_i,
      .valid_o (rq_valid[i]),
      .y_o     (y[i*8 +: 8])
    );
  end

  // The requant outputs hold until the next valid result, so words are read straight from them.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      writing_q <= 1'b0;
      word_q    <= '0;
      words_q   <= '0;
      addr_q    <= '0;
      stride_q  <= '0;
      run_q     <= '0;
      partial_q <= 1'b0;
      lane_q    <= '0;
    end else begin
      if (we_o) run_q <= waddr_o + stride_q;
      if (valid_i) begin
        addr_q    <= addr_i;
        stride_q  <= stride_i;
        words_q   <= words_i;
        partial_q <= partial_i;
        lane_q    <= lane_i;
      end
      if (rq_valid[0]) begin
        writing_q <= (words_q != WordCntWidth'(1));
        word_q    <= WordCntWidth'(1);
      end else if (writing_q) begin
        writing_q <= (word_q + WordCntWidth'(1) < words_q);
        word_q    <= word_q + WordCntWidth'(1);
      end
    end
  end

  // selects a word of the result only when the result is wider than a word (PeOc > L)
  /* verilator lint_off UNUSEDSIGNAL */
  logic [WordCntWidth-1:0] cur_word;
  /* verilator lint_on UNUSEDSIGNAL */
  assign cur_word = rq_valid[0] ? '0 : word_q;

  always_comb begin
    we_o    = rq_valid[0] || writing_q;
    waddr_o = rq_valid[0] ? addr_q : run_q;
    if (partial_q) begin
      wdata_o = (L*8)'(y[PartLanes*8-1:0]) << {lane_q, 3'b000};
      wbe_o   = L'({PartLanes{1'b1}}) << lane_q;
    end else begin
      wdata_o = y[YIdxWidth'(cur_word) << $clog2(L*8) +: L*8];
      wbe_o   = '1;
    end
  end

  assign busy_o = valid_i || rq_valid[0] || writing_q;
endmodule
