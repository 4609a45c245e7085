// PeOc x PeIc int8 x centred-activation multipliers; each row sums its PeIc products.
// Two cycles of latency (products, row sums), one input vector per cycle, no stalls: the
// schedule upstream decides when a value is valid, so the array itself has no control.
module gatec_pe_array #(
  parameter int unsigned PeOc     = 8,
  parameter int unsigned PeIc     = 8,
  parameter int unsigned SumWidth = 32,
  // 1: every row has its own PeIc activations (the gated conv's reduction mode); 0: one vector
  // broadcast to all rows
  parameter bit          PerRowX  = 1'b0,
  localparam int unsigned XRows   = PerRowX ? PeOc : 1
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  input  logic                     valid_i,
  // PeIc activations (per row with PerRowX), each x - zp as 9-bit two's complement
  input  logic [XRows*PeIc*9-1:0]  x_i,
  // weight (r, c) at bits [(r*PeIc+c)*8 +: 8]
  input  logic [PeOc*PeIc*8-1:0]   w_i,
  output logic                     valid_o,
  output logic [PeOc*SumWidth-1:0] sum_o
);
  localparam int unsigned ProdWidth = 17;

  logic signed [ProdWidth-1:0] prod_q [PeOc*PeIc];
  logic                        prod_valid_q;

  for (genvar r = 0; r < PeOc; r++) begin : g_row
    for (genvar c = 0; c < PeIc; c++) begin : g_col
      always_ff @(posedge clk_i) begin
        prod_q[r*PeIc+c] <= $signed(w_i[(r*PeIc+c)*8 +: 8]) * $signed(x_i[((PerRowX ? r : 0)*PeIc+c)*9 +: 9]);
      end
    end
  end

  always_ff @(posedge clk_i) begin
    for (int unsigned r = 0; r < PeOc; r++) begin
      logic signed [SumWidth-1:0] row_sum;
      row_sum = '0;
      for (int unsigned c = 0; c < PeIc; c++) row_sum = row_sum + SumWidth'(prod_q[r*PeIc+c]);
      sum_o[r*SumWidth +: SumWidth] <= row_sum;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      prod_valid_q <= 1'b0;
      valid_o      <= 1'b0;
    end else begin
      prod_valid_q <= valid_i;
      valid_o      <= prod_valid_q;
    end
  end
endmodule
