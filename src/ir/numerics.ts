/**
 * The one definition of gatec's integer numerics. The golden model, the Verilog templates and
 * the HLS templates implement exactly these formulas; change them here and there together.
 *
 * Requantization of an int32 accumulator:
 *   p = acc * multiplier                      (exact: |p| < 2^47)
 *   q = p >> shift                            (arithmetic shift: floor(p / 2^shift))
 *   r = p - q * 2^shift                       (the shifted-out bits, 0 <= r < 2^shift)
 *   q += (r > 2^(shift-1) || (r == 2^(shift-1) && q is odd)) ? 1 : 0   (round half to even)
 *   y = clamp(zp + q, lo, hi)
 * multiplier is an unsigned 15-bit integer normalized to [2^14, 2^15) (0 for a vanishing scale),
 * shift in [1, MAX_SHIFT]. Half-to-even is what onnxruntime's float requantization does, so
 * exact ties (frequent in average pooling) agree with it. Every step is exact in float64 and in
 * a 64-bit hardware product.
 */
export const MULTIPLIER_BITS = 15;
export const MULTIPLIER_MIN = 1 << (MULTIPLIER_BITS - 1);
export const MAX_SHIFT = 52;
export const INT8_MIN = -128;
export const INT8_MAX = 127;

export interface FixedPointMultiplier {
  multiplier: number;
  shift: number;
}

/** real ~= multiplier * 2^-shift with the most precision the fixed format allows. */
export function quantizeMultiplier(real: number): FixedPointMultiplier {
  if (!(real >= 0) || !Number.isFinite(real)) {
    throw new RangeError(`requantization scale ${real} is not a finite non-negative number`);
  }
  if (real === 0) return { multiplier: 0, shift: 1 };
  let shift = MULTIPLIER_BITS - 1 - Math.floor(Math.log2(real));
  let multiplier = Math.round(real * 2 ** shift);
  if (multiplier >= 2 * MULTIPLIER_MIN) {
    multiplier = Math.round(multiplier / 2);
    shift -= 1;
  }
  if (shift < 1) {
    throw new RangeError(`requantization scale ${real} is too large (at most 2^${MULTIPLIER_BITS - 2})`);
  }
  if (shift > MAX_SHIFT) {
    const scaled = Math.round(real * 2 ** MAX_SHIFT);
    return scaled === 0 ? { multiplier: 0, shift: 1 } : { multiplier: scaled, shift: MAX_SHIFT };
  }
  return { multiplier, shift };
}

/**
 * Several reals sharing one shift (residual add, concat inputs): the largest gets full precision.
 */
export function quantizeMultipliersSharedShift(reals: number[]): { multipliers: number[]; shift: number } {
  const largest = Math.max(...reals);
  const { shift } = quantizeMultiplier(largest);
  return { multipliers: reals.map((r) => Math.round(r * 2 ** shift)), shift };
}

/** round_half_even(acc * multiplier / 2^shift), exact for |acc| < 2^32. */
export function scaleRound(acc: number, multiplier: number, shift: number): number {
  const p = acc * multiplier;
  const unit = 2 ** shift;
  const q = Math.floor(p / unit);
  const r = p - q * unit;
  const half = unit / 2;
  return r > half || (r === half && (q & 1) !== 0) ? q + 1 : q;
}

export function requantize(
  acc: number,
  multiplier: number,
  shift: number,
  zeroPoint: number,
  lo: number,
  hi: number,
): number {
  const y = zeroPoint + scaleRound(acc, multiplier, shift);
  return y < lo ? lo : y > hi ? hi : y;
}

/** Round half to even, as ONNX QuantizeLinear specifies. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ONNX QuantizeLinear on float32 data into int8 (division in float32, as onnxruntime does). */
export function quantizeValue(x: number, scale: number, zeroPoint: number): number {
  const q = roundHalfEven(Math.fround(x / scale)) + zeroPoint;
  return q < INT8_MIN ? INT8_MIN : q > INT8_MAX ? INT8_MAX : q;
}

export function dequantizeValue(q: number, scale: number, zeroPoint: number): number {
  return (q - zeroPoint) * scale;
}
