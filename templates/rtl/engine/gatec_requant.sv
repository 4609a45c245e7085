// Requantization unit: int32 accumulator -> int8, the rule of src/ir/numerics.ts, bit-exact:
//   p = acc * multiplier; q = p >>> shift; r = p - (q << shift)
//   q += (r > 2^(shift-1)) || (r == 2^(shift-1) && q odd)        (round half to even)
//   y = clamp(zp + q, lo, hi)
// One result per cycle, one cycle of latency. The product is the unit's only multiplier.
module gatec_requant #(
  parameter int unsigned AccWidth  = 32,
  parameter int unsigned MultWidth = 15,
  parameter int unsigned ShiftWidth = 6
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        valid_i,
  input  logic signed [AccWidth-1:0]  acc_i,
  input  logic [MultWidth-1:0]        mult_i,
  input  logic [ShiftWidth-1:0]       shift_i,
  input  logic signed [7:0]           zp_i,
  input  logic signed [7:0]           lo_i,
  input  logic signed [7:0]           hi_i,
  output logic                        valid_o,
  output logic signed [7:0]           y_o
);
  localparam int unsigned ProdWidth = AccWidth + MultWidth + 1;
  localparam int unsigned Wide = 64;

  logic signed [ProdWidth-1:0] prod;
  logic signed [Wide-1:0]      prod_wide, quot, rem, half, rounded, sum;
  logic                        round_up;
  logic signed [7:0]           y_d;

  always_comb begin
    prod      = acc_i * $signed({1'b0, mult_i});
    prod_wide = Wide'(prod);
    quot      = prod_wide >>> shift_i;
    rem       = prod_wide - (quot <<< shift_i);
    half      = Wide'(1) <<< (shift_i - ShiftWidth'(1));
    round_up  = (rem > half) || ((rem == half) && quot[0]);
    rounded   = quot + (round_up ? Wide'(1) : Wide'(0));
    sum       = rounded + Wide'(zp_i);
    if (sum < Wide'(lo_i)) begin
      y_d = lo_i;
    end else if (sum > Wide'(hi_i)) begin
      y_d = hi_i;
    end else begin
      y_d = sum[7:0];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_o <= 1'b0;
      y_o     <= '0;
    end else begin
      valid_o <= valid_i;
      if (valid_i) y_o <= y_d;
    end
  end
endmodule
