import { windowOut } from '../ir/shapes.js';
import type {
  AddLayer,
  Clamp,
  ConcatLayer,
  ConvLayer,
  FcLayer,
  GlobalAvgPoolLayer,
  PoolLayer,
  Quantization,
  TransposeLayer,
} from '../ir/types.js';

/**
 * Bit-exact integer kernels, one per IR layer op. Every one ends in the requantization rule
 * of src/ir/numerics.ts (round half to even), inlined here for speed.
 */
export interface Act {
  shape: number[];
  data: Int8Array;
  quant: Quantization;
}

export function requantInto(out: Int8Array, offset: number, acc: Int32Array | Float64Array, m: number, s: number, zp: number, clamp: Clamp): void {
  const unit = 2 ** s;
  const half = unit / 2;
  const inv = 2 ** -s;
  const [lo, hi] = clamp;
  for (let i = 0; i < acc.length; i++) {
    const p = acc[i]! * m;
    let q = Math.floor(p * inv);
    const r = p - q * unit;
    if (r > half || (r === half && (q & 1) !== 0)) q++;
    const y = zp + q;
    out[offset + i] = y < lo ? lo : y > hi ? hi : y;
  }
}

/** Input minus its zero point, zero-padded: padding holds real zero. */
export function centeredPadded(x: Act, pads: [number, number, number, number]): { data: Int16Array; h: number; w: number } {
  const [c, h, w] = x.shape as [number, number, number];
  const [pt, pl, pb, pr] = pads;
  const hp = h + pt + pb;
  const wp = w + pl + pr;
  const data = new Int16Array(c * hp * wp);
  const zp = x.quant.zeroPoint;
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const src = (ch * h + y) * w;
      const dst = (ch * hp + y + pt) * wp + pl;
      for (let i = 0; i < w; i++) data[dst + i] = x.data[src + i]! - zp;
    }
  }
  return { data, h: hp, w: wp };
}

/** Adds input channels cStart..cEnd-1 of one output channel to `acc` (dense and gated convs). */
export function convChannelAcc(
  l: ConvLayer,
  xp: { data: Int16Array; h: number; w: number },
  o: number,
  cinPerGroup: number,
  cStart: number,
  cEnd: number,
  oh: number,
  ow: number,
  acc: Int32Array,
): void {
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const coPerGroup = l.bias.length / l.groups;
  const g = Math.floor(o / coPerGroup);
  const plane = xp.h * xp.w;
  for (let c = cStart; c < cEnd; c++) {
    const cin = g * cinPerGroup + c;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const wv = l.weights[((o * cinPerGroup + c) * kh + ky) * kw + kx]!;
        if (wv === 0) continue;
        for (let y = 0; y < oh; y++) {
          const row = cin * plane + (y * sh + ky) * xp.w + kx;
          const out = y * ow;
          if (sw === 1) {
            for (let x = 0; x < ow; x++) acc[out + x]! += wv * xp.data[row + x]!;
          } else {
            for (let x = 0; x < ow; x++) acc[out + x]! += wv * xp.data[row + x * sw]!;
          }
        }
      }
    }
  }
}

export function conv(l: ConvLayer, x: Act, yq: Quantization): Act {
  const [c, h, w] = x.shape as [number, number, number];
  const co = l.bias.length;
  const oh = windowOut(h, l.kernel[0], l.stride[0], l.pads[0], l.pads[2]);
  const ow = windowOut(w, l.kernel[1], l.stride[1], l.pads[1], l.pads[3]);
  const xp = centeredPadded(x, l.pads);
  const cinPerGroup = c / l.groups;
  const out = new Int8Array(co * oh * ow);
  const acc = new Int32Array(oh * ow);
  for (let o = 0; o < co; o++) {
    acc.fill(l.bias[o]!);
    convChannelAcc(l, xp, o, cinPerGroup, 0, cinPerGroup, oh, ow, acc);
    requantInto(out, o * oh * ow, acc, l.requant.multiplier[o]!, l.requant.shift[o]!, yq.zeroPoint, l.clamp);
  }
  return { shape: [co, oh, ow], data: out, quant: yq };
}

export function fc(l: FcLayer, x: Act, yq: Quantization): Act {
  const ci = x.data.length;
  const co = l.bias.length;
  const xc = new Int16Array(ci);
  for (let i = 0; i < ci; i++) xc[i] = x.data[i]! - x.quant.zeroPoint;
  const out = new Int8Array(co);
  const acc = new Int32Array(1);
  for (let o = 0; o < co; o++) {
    let a = l.bias[o]!;
    const base = o * ci;
    for (let i = 0; i < ci; i++) a += l.weights[base + i]! * xc[i]!;
    acc[0] = a;
    requantInto(out, o, acc, l.requant.multiplier[o]!, l.requant.shift[o]!, yq.zeroPoint, l.clamp);
  }
  return { shape: [co], data: out, quant: yq };
}

export function pool(l: PoolLayer, x: Act, yq: Quantization): Act {
  const [c, h, w] = x.shape as [number, number, number];
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const [pt, pl, pb, pr] = l.pads;
  const oh = windowOut(h, kh, sh, pt, pb);
  const ow = windowOut(w, kw, sw, pl, pr);
  const zp = x.quant.zeroPoint;
  const isMax = l.op === 'maxpool';
  const out = new Int8Array(c * oh * ow);
  const acc = new Int32Array(oh * ow);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        // Max pooling ignores padding; average pooling counts padding as real zero (x - zp = 0).
        let a = isMax ? -Infinity : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y * sh - pt + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = xo * sw - pl + kx;
            if (ix < 0 || ix >= w) continue;
            const v = x.data[(ch * h + iy) * w + ix]! - zp;
            a = isMax ? (v > a ? v : a) : a + v;
          }
        }
        acc[y * ow + xo] = a;
      }
    }
    requantInto(out, ch * oh * ow, acc, l.requant.multiplier[0]!, l.requant.shift[0]!, yq.zeroPoint, l.clamp);
  }
  return { shape: [c, oh, ow], data: out, quant: yq };
}

export function globalAvgPool(l: GlobalAvgPoolLayer, x: Act, yq: Quantization): Act {
  const [c, h, w] = x.shape as [number, number, number];
  const acc = new Int32Array(c);
  const zp = x.quant.zeroPoint;
  for (let ch = 0; ch < c; ch++) {
    let a = 0;
    for (let i = ch * h * w; i < (ch + 1) * h * w; i++) a += x.data[i]! - zp;
    acc[ch] = a;
  }
  const out = new Int8Array(c);
  requantInto(out, 0, acc, l.requant.multiplier[0]!, l.requant.shift[0]!, yq.zeroPoint, l.clamp);
  return { shape: [c, 1, 1], data: out, quant: yq };
}

export function add(l: AddLayer, a: Act, b: Act, yq: Quantization): Act {
  const ma = l.requant.multiplier[0]!;
  const mb = l.requant.multiplier[1]!;
  const acc = new Float64Array(a.data.length);
  for (let i = 0; i < acc.length; i++) {
    acc[i] = (a.data[i]! - a.quant.zeroPoint) * ma + (b.data[i]! - b.quant.zeroPoint) * mb;
  }
  const out = new Int8Array(acc.length);
  requantInto(out, 0, acc, 1, l.requant.shift[0]!, yq.zeroPoint, l.clamp);
  return { shape: a.shape, data: out, quant: yq };
}

export function concat(l: ConcatLayer, xs: Act[], yq: Quantization): Act {
  const total = xs.reduce((s, x) => s + x.data.length, 0);
  const out = new Int8Array(total);
  let off = 0;
  xs.forEach((x, i) => {
    const acc = new Int32Array(x.data.length);
    for (let j = 0; j < acc.length; j++) acc[j] = x.data[j]! - x.quant.zeroPoint;
    requantInto(out, off, acc, l.requant.multiplier[i]!, l.requant.shift[i]!, yq.zeroPoint, l.clamp);
    off += acc.length;
  });
  return { shape: [xs.reduce((s, x) => s + x.shape[0]!, 0), ...xs[0]!.shape.slice(1)], data: out, quant: yq };
}

export function transpose(l: TransposeLayer, x: Act): Act {
  const shape = l.perm.map((p) => x.shape[p]!);
  const strides = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Int8Array(x.data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += idx[d]! * strides[l.perm[d]!]!;
    out[i] = x.data[src]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape, data: out, quant: x.quant };
}
