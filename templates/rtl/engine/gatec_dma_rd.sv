// DMA read path (LOAD): DRAM bursts -> rows of the input, weight or parameter buffer.
// Bursts of at most MaxBurst beats, at most MaxOutstanding in flight so that instruction fetches
// interleave with long loads. Beats are assembled into buffer rows (a row spans Wt/B beats).
// This is the seam where the zero-block decoder of the input path plugs in.
module gatec_dma_rd #(
  parameter int unsigned B              = 16,
  parameter int unsigned Wa             = 16,
  parameter int unsigned Ww             = 64,
  parameter int unsigned Wp             = 64,
  parameter int unsigned RowAddrWidth   = 16,
  parameter int unsigned MaxBurst       = 64,
  parameter int unsigned MaxOutstanding = 4,
  localparam int unsigned WMax = (Wa > Ww) ? ((Wa > Wp) ? Wa : Wp) : ((Ww > Wp) ? Ww : Wp),
  localparam int unsigned BeatIdxWidth = (WMax / B > 1) ? $clog2(WMax / B) : 1
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
  input  logic                    data_valid_i,
  input  logic [B*8-1:0]          data_i,
  input  logic                    data_last_i,
  // one row write per cycle at most, to the target buffer of the instruction
  output logic                    in_we_o,
  output logic                    w_we_o,
  output logic                    p_we_o,
  output logic [RowAddrWidth-1:0] row_o,
  output logic [WMax*8-1:0]       row_data_o
);
  localparam int unsigned LogB = $clog2(B);
  localparam int unsigned AsmIdxWidth = $clog2(WMax * 8);

  logic [15:0] h [32];
  always_comb begin
    for (int unsigned k = 0; k < 32; k++) h[k] = instr_i[16*k +: 16];
  end

  logic [31:0] addr_q, req_left_q, data_left_q;
  logic [1:0]  target_q;
  logic [RowAddrWidth-1:0] row_q;
  logic [BeatIdxWidth-1:0] beat_q, beats_per_row;
  logic [$clog2(MaxOutstanding+1)-1:0] outstanding_q;
  logic [WMax*8-1:0] asm_q, asm_now;
  logic [31:0] burst;

  always_comb begin
    case (target_q)
      2'd1:    beats_per_row = BeatIdxWidth'(Ww / B - 1);
      2'd2:    beats_per_row = BeatIdxWidth'(Wp / B - 1);
      default: beats_per_row = BeatIdxWidth'(Wa / B - 1);
    endcase
  end

  assign busy_o      = (data_left_q != '0);
  assign burst       = (req_left_q > 32'(MaxBurst)) ? 32'(MaxBurst) : req_left_q;
  assign req_valid_o = (req_left_q != '0) && (outstanding_q < MaxOutstanding[$bits(outstanding_q)-1:0]);
  assign req_addr_o  = addr_q;
  assign req_beats_o = burst[15:0];

  logic row_done;
  assign row_done = data_valid_i && (beat_q == beats_per_row);

  always_comb begin
    asm_now = asm_q;
    asm_now[AsmIdxWidth'({beat_q, LogB'(0), 3'b000}) +: B*8] = data_i;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      addr_q        <= '0;
      req_left_q    <= '0;
      data_left_q   <= '0;
      target_q      <= '0;
      row_q         <= '0;
      beat_q        <= '0;
      outstanding_q <= '0;
    end else begin
      if (start_i) begin
        addr_q      <= {h[3], h[2]};
        req_left_q  <= {h[5], h[4]} >> LogB;
        data_left_q <= {h[5], h[4]} >> LogB;
        target_q    <= h[6][1:0];
        row_q       <= RowAddrWidth'(h[7]);
        beat_q      <= '0;
      end else begin
        if (req_valid_o && req_ready_i) begin
          addr_q     <= addr_q + (burst << LogB);
          req_left_q <= req_left_q - burst;
        end
        if (data_valid_i) begin
          data_left_q <= data_left_q - 32'd1;
          if (row_done) begin
            beat_q <= '0;
            row_q  <= row_q + RowAddrWidth'(1);
          end else begin
            beat_q <= beat_q + BeatIdxWidth'(1);
          end
        end
      end
      case ({req_valid_o && req_ready_i, data_valid_i && data_last_i})
        2'b10:   outstanding_q <= outstanding_q + 1'b1;
        2'b01:   outstanding_q <= outstanding_q - 1'b1;
        default: outstanding_q <= outstanding_q;
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (data_valid_i) asm_q <= asm_now;
  end

  assign in_we_o    = row_done && (target_q == 2'd0);
  assign w_we_o     = row_done && (target_q == 2'd1);
  assign p_we_o     = row_done && (target_q == 2'd2);
  assign row_o      = row_q;
  assign row_data_o = asm_now;
endmodule
