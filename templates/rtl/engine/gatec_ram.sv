// Simple dual-port RAM: one write port, one registered read port (1 cycle). With ByteEnable
// each byte lane is its own memory, so a partial-row write is a plain write per lane: the
// simulator and Yosys' block-RAM inference both take that form directly.
module gatec_ram #(
  parameter int unsigned RowBytes   = 16,
  parameter int unsigned Rows       = 1024,
  parameter bit          ByteEnable = 1'b0,
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
  if (ByteEnable) begin : g_lanes
    for (genvar b = 0; b < RowBytes; b++) begin : g_lane
      logic [7:0] mem_q [Rows];
      always_ff @(posedge clk_i) begin
        if (we_i && wbe_i[b]) mem_q[waddr_i] <= wdata_i[8*b +: 8];
        if (re_i) rdata_o[8*b +: 8] <= mem_q[raddr_i];
      end
    end
  end else begin : g_rows
    logic [RowBytes*8-1:0] mem_q [Rows];
    always_ff @(posedge clk_i) begin
      if (we_i) mem_q[waddr_i] <= wdata_i;
      if (re_i) rdata_o <= mem_q[raddr_i];
    end
    // full-row writes only
    logic unused_wbe;
    assign unused_wbe = ^wbe_i;
  end
endmodule
