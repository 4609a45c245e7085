// Simple dual-port RAM: one write port with byte enables, one registered read port (1 cycle).
// Written so that Yosys infers block RAM and Verilator simulates it directly.
module gatec_ram #(
  parameter int unsigned RowBytes = 16,
  parameter int unsigned Rows     = 1024,
  localparam int unsigned AddrWidth = (Rows > 1) ? $clog2(Rows) : 1
) (
  input  logic                    clk_i,
  input  logic                    we_i,
  input  logic [AddrWidth-1:0]    waddr_i,
  input  logic [RowBytes-1:0]     wbe_i,
  input  logic [RowBytes*8-1:0]   wdata_i,
  input  logic                    re_i,
  input  logic [AddrWidth-1:0]    raddr_i,
  output logic [RowBytes*8-1:0]   rdata_o
);
  logic [RowBytes*8-1:0] mem_q [Rows];

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      for (int unsigned b = 0; b < RowBytes; b++) begin
        if (wbe_i[b]) mem_q[waddr_i][8*b +: 8] <= wdata_i[8*b +: 8];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (re_i) rdata_o <= mem_q[raddr_i];
  end
endmodule
