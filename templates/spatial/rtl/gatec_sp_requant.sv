// Requantization of the spatial architecture, combinational: int accumulator -> int8 by the rule
// of src/ir/numerics.ts, bit-exact:
//   p = acc * multiplier; q = p >>> shift; r = p - (q << shift)
//   q += (r > 2^(shift-1)) || (r == 2^(shift-1) && q odd)        (round half to even)
//   y = clamp(zp + q, lo, hi)
// Unlike the engine's gatec_requant (32-bit accumulator, 64-bit datapath, one register), the
// widths follow the layer's exact accumulator bound, so a product of up to 25 x 16 bits is one
// DSP48E1, and the frame buffer the result is shifted into is the register. The generator clamps
// shift to ProdWidth, which gives the same result as any larger shift (docs/spatial.md).
module gatec_sp_requant #(
  parameter int unsigned AccWidth   = 32,
  parameter int unsigned ShiftWidth = 6
) (
  input  logic signed [AccWidth-1:0] acc_i,
  input  logic [14:0]                mult_i,
  input  logic [ShiftWidth-1:0]      shift_i,
  input  logic signed [7:0]          zp_i,
  input  logic signed [7:0]          lo_i,
  input  logic signed [7:0]          hi_i,
  output logic signed [7:0]          y_o
);
  localparam int unsigned ProdWidth = AccWidth + 16;

  logic signed [ProdWidth-1:0] prod, quot;
  logic        [ProdWidth-1:0] rem, half, mask;
  logic                        round_up;
  logic signed [ProdWidth:0]   sum;

  always_comb begin
    prod     = acc_i * $signed({1'b0, mult_i});
    quot     = prod >>> shift_i;
    mask     = (ProdWidth'(1) << shift_i) - ProdWidth'(1);
    rem      = prod & mask;
    half     = ProdWidth'(1) << (shift_i - ShiftWidth'(1));
    round_up = (rem > half) || ((rem == half) && quot[0]);
    sum      = (ProdWidth + 1)'(quot) + (ProdWidth + 1)'(zp_i) +
               (round_up ? (ProdWidth + 1)'(1) : (ProdWidth + 1)'(0));
    if (sum < (ProdWidth + 1)'(lo_i)) begin
      y_o = lo_i;
    end else if (sum > (ProdWidth + 1)'(hi_i)) begin
      y_o = hi_i;
    end else begin
      y_o = sum[7:0];
    end
  end
endmodule
