// Instruction fetch: reads the program from DRAM in bursts into a FIFO of 64-byte instructions,
// one burst in flight at a time, issued only when the FIFO has room for all of it.
module gatec_fetch #(
  parameter int unsigned B          = 16,
  parameter int unsigned FetchDepth = 16,
  localparam int unsigned PtrWidth   = $clog2(FetchDepth),
  localparam int unsigned CntWidth   = $clog2(FetchDepth + 1),
  localparam int unsigned BeatsPerInstr = (64 / B > 1) ? 64 / B : 1,
  localparam int unsigned BeatIdxWidth  = (BeatsPerInstr > 1) ? $clog2(BeatsPerInstr) : 1,
  // at most 64 beats per burst, at most half the FIFO
  localparam int unsigned ChunkMax = ((64 / BeatsPerInstr) < (FetchDepth / 2)) ? (64 / BeatsPerInstr) : (FetchDepth / 2)
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic          start_i,
  input  logic [31:0]   prog_addr_i,
  input  logic [31:0]   prog_len_i,
  output logic          req_valid_o,
  input  logic          req_ready_i,
  output logic [31:0]   req_addr_o,
  output logic [15:0]   req_beats_o,
  input  logic          data_valid_i,
  input  logic [B*8-1:0] data_i,
  input  logic          data_last_i,
  output logic          instr_valid_o,
  output logic [511:0]  instr_o,
  input  logic          pop_i
);
  logic [31:0] addr_q, left_q, chunk;
  logic [CntWidth-1:0] count_q;
  logic [PtrWidth-1:0] rd_ptr_q, wr_ptr_q;
  logic [BeatIdxWidth-1:0] beat_q;
  logic outstanding_q;
  logic [511:0] fifo_q [FetchDepth];
  logic [511:0] asm_q, asm_now;
  logic instr_done;

  assign chunk       = (left_q > 32'(ChunkMax)) ? 32'(ChunkMax) : left_q;
  assign req_valid_o = !outstanding_q && (left_q != '0) && (32'(count_q) + chunk <= 32'(FetchDepth));
  assign req_addr_o  = addr_q;
  assign req_beats_o = 16'(chunk * BeatsPerInstr);

  always_comb begin
    asm_now = asm_q;
    asm_now[9'({beat_q, $clog2(B)'(0), 3'b000}) +: B*8] = data_i;
  end
  assign instr_done = data_valid_i && (beat_q == BeatIdxWidth'(BeatsPerInstr - 1));

  assign instr_valid_o = (count_q != '0);
  assign instr_o       = fifo_q[rd_ptr_q];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      addr_q <= '0; left_q <= '0; count_q <= '0; rd_ptr_q <= '0; wr_ptr_q <= '0;
      beat_q <= '0; outstanding_q <= 1'b0;
    end else if (start_i) begin
      addr_q <= prog_addr_i; left_q <= prog_len_i; count_q <= '0; rd_ptr_q <= '0;
      wr_ptr_q <= '0; beat_q <= '0; outstanding_q <= 1'b0;
    end else begin
      if (req_valid_o && req_ready_i) begin
        addr_q        <= addr_q + (chunk << 6);
        left_q        <= left_q - chunk;
        outstanding_q <= 1'b1;
      end else if (data_valid_i && data_last_i) begin
        outstanding_q <= 1'b0;
      end
      if (data_valid_i) beat_q <= instr_done ? '0 : beat_q + BeatIdxWidth'(1);
      if (instr_done) wr_ptr_q <= wr_ptr_q + PtrWidth'(1);
      if (pop_i) rd_ptr_q <= rd_ptr_q + PtrWidth'(1);
      count_q <= count_q + (instr_done ? CntWidth'(1) : '0) - (pop_i ? CntWidth'(1) : '0);
    end
  end

  always_ff @(posedge clk_i) begin
    if (data_valid_i) asm_q <= asm_now;
    if (instr_done) fifo_q[wr_ptr_q] <= asm_now;
  end
endmodule
