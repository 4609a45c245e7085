// DMA write path (STORE): rows of the output buffer -> DRAM write bursts. Requests run ahead of
// data; a beat is only sent once its burst's request has been accepted. A two-row queue hides
// the buffer's read latency. This is the seam where the zero-block encoder plugs in.
module gatec_dma_wr #(
  parameter int unsigned B            = 16,
  parameter int unsigned Wa           = 16,
  parameter int unsigned RowAddrWidth = 16,
  parameter int unsigned MaxBurst     = 64,
  localparam int unsigned BeatIdxWidth = (Wa / B > 1) ? $clog2(Wa / B) : 1
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    start_i,
  input  logic [511:0]            instr_i,
  output logic                    busy_o,
  output logic                    req_valid_o,
  input  logic                    req_ready_i,
  output logic [31:0]             req_addr_o,
  output logic [15:0]             req_beats_o,
  output logic                    data_valid_o,
  input  logic                    data_ready_i,
  output logic [B*8-1:0]          data_o,
  output logic                    data_last_o,
  output logic                    re_o,
  output logic [RowAddrWidth-1:0] raddr_o,
  input  logic [Wa*8-1:0]         rdata_i
);
  localparam int unsigned LogB = $clog2(B);
  localparam int unsigned RowIdxWidth = $clog2(Wa * 8);

  logic [15:0] h [32];
  always_comb begin
    for (int unsigned k = 0; k < 32; k++) h[k] = instr_i[16*k +: 16];
  end

  logic [31:0] addr_q, req_left_q, data_left_q, rows_left_q, credit_q, burst_left_q;
  logic [RowAddrWidth-1:0] row_q;
  logic [BeatIdxWidth-1:0] beat_q;
  logic [Wa*8-1:0] queue_q [2];
  logic rd_ptr_q, wr_ptr_q, inflight_q;
  logic [1:0] count_q;
  logic [31:0] burst;

  assign busy_o      = (data_left_q != '0);
  assign burst       = (req_left_q > 32'(MaxBurst)) ? 32'(MaxBurst) : req_left_q;
  assign req_valid_o = (req_left_q != '0);
  assign req_addr_o  = addr_q;
  assign req_beats_o = burst[15:0];

  logic beat_fire, row_consumed, req_fire;
  assign req_fire     = req_valid_o && req_ready_i;
  assign data_valid_o = (count_q != 2'd0) && (credit_q != '0);
  assign beat_fire    = data_valid_o && data_ready_i;
  assign row_consumed = beat_fire && (beat_q == BeatIdxWidth'(Wa / B - 1));
  assign data_o       = queue_q[rd_ptr_q][RowIdxWidth'({beat_q, LogB'(0), 3'b000}) +: B*8];
  assign data_last_o  = (burst_left_q == 32'd1);

  // Keep at most two rows queued or in flight; a row leaving this cycle frees its slot now, so
  // one-beat rows stream at one beat per cycle.
  assign re_o    = (rows_left_q != '0) && !start_i &&
                   (32'(count_q) + 32'(inflight_q) - (row_consumed ? 32'd1 : 32'd0) < 32'd2);
  assign raddr_o = row_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      addr_q <= '0; req_left_q <= '0; data_left_q <= '0; rows_left_q <= '0; credit_q <= '0;
      burst_left_q <= '0; row_q <= '0; beat_q <= '0; rd_ptr_q <= 1'b0; wr_ptr_q <= 1'b0;
      inflight_q <= 1'b0; count_q <= '0;
    end else if (start_i) begin
      addr_q       <= {h[3], h[2]};
      req_left_q   <= {h[5], h[4]} >> LogB;
      data_left_q  <= {h[5], h[4]} >> LogB;
      rows_left_q  <= {h[5], h[4]} >> $clog2(Wa);
      credit_q     <= '0;
      burst_left_q <= '0;
      row_q        <= RowAddrWidth'(h[7]);
      beat_q       <= '0;
      rd_ptr_q     <= 1'b0;
      wr_ptr_q     <= 1'b0;
      inflight_q   <= 1'b0;
      count_q      <= '0;
    end else begin
      if (req_fire) begin
        addr_q     <= addr_q + (burst << LogB);
        req_left_q <= req_left_q - burst;
      end
      credit_q <= credit_q + (req_fire ? burst : '0) - (beat_fire ? 32'd1 : '0);
      if (beat_fire) begin
        data_left_q <= data_left_q - 32'd1;
        beat_q      <= row_consumed ? '0 : beat_q + BeatIdxWidth'(1);
        // bursts follow the request sequence: min(MaxBurst, beats left)
        burst_left_q <= (burst_left_q > 32'd1) ? burst_left_q - 32'd1
                      : ((data_left_q - 32'd1 > 32'(MaxBurst)) ? 32'(MaxBurst) : data_left_q - 32'd1);
      end else if (burst_left_q == '0 && data_left_q != '0) begin
        burst_left_q <= (data_left_q > 32'(MaxBurst)) ? 32'(MaxBurst) : data_left_q;
      end
      if (re_o) begin
        row_q       <= row_q + RowAddrWidth'(1);
        rows_left_q <= rows_left_q - 32'd1;
      end
      inflight_q <= re_o;
      if (inflight_q) wr_ptr_q <= ~wr_ptr_q;
      if (row_consumed) rd_ptr_q <= ~rd_ptr_q;
      count_q <= count_q + (inflight_q ? 2'd1 : 2'd0) - (row_consumed ? 2'd1 : 2'd0);
    end
  end

  always_ff @(posedge clk_i) begin
    if (inflight_q) queue_q[wr_ptr_q] <= rdata_i;
  end
endmodule
