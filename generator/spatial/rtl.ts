import type { ComputeStage, MacStage, Multiplier, PoolStage, SpatialPlan } from './plan.js';
import { prodWidth } from './plan.js';

/**
 * Template contexts of the spatial RTL (templates/spatial/rtl): what varies in structure per
 * network (tap positions, weight ROMs, which multipliers exist, requantization tables) is
 * rendered here as SystemVerilog lines; the handshake and counters stay in the templates.
 */

const clog2 = (n: number): number => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));
/** Width of a counter holding 0..max (at least 1 bit). */
const cw = (max: number): number => Math.max(1, clog2(max + 1));
const hex = (v: number, bits: number): string => `${bits}'h${(BigInt.asUintN(bits, BigInt(v))).toString(16)}`;
const mod = (a: number, n: number): number => ((a % n) + n) % n;

export interface StageContext {
  module: string;
  header: string;
  [k: string]: string | number;
}

/** Pixel scan shared by conv and pool stages: validity of each kernel row/column and the rotation. */
function scan(s: { in: [number, number, number]; out: [number, number, number]; kernel: [number, number]; stride: [number, number]; pads: [number, number, number, number] }) {
  const [, h, w] = s.in;
  const [, oh, ow] = s.out;
  const [kh, kw] = s.kernel;
  const [sh, sw] = s.stride;
  const [pt, pl] = s.pads;
  const pixels = oh * ow;
  const hw = h * w;
  const bits = cw(Math.max(oh * sh, ow * sw) + Math.max(kh, kw) + Math.max(h, w) + Math.max(pt, pl));
  const decls: string[] = [];
  const okY: string[] = [];
  const okX: string[] = [];
  const cond = (q: string, stride: number, k: number, pad: number, size: number, count: number): string => {
    const terms: string[] = [];
    const e = `(${bits}'(${q}) * ${bits}'(${stride}) + ${bits}'(${k}))`;
    if (k < pad) terms.push(`${e} >= ${bits}'(${pad})`);
    if ((count - 1) * stride + k >= size + pad) terms.push(`${e} < ${bits}'(${size + pad})`);
    return terms.length ? terms.join(' && ') : "1'b1";
  };
  const moving = pixels > 1;
  if (moving) {
    decls.push(`  logic [${cw(oh - 1) - 1}:0] oy_q;`, `  logic [${cw(ow - 1) - 1}:0] ox_q;`, '  logic row_end;');
    decls.push(`  assign row_end = ox_q == ${cw(ow - 1)}'(${ow - 1});`);
  }
  for (let ky = 0; ky < kh; ky++) {
    const c = moving ? cond('oy_q', sh, ky, pt, h, oh) : ky >= pt && ky < h + pt ? "1'b1" : "1'b0";
    okY.push(c === "1'b1" ? '' : `ok_y${ky}`);
    if (c !== "1'b1") decls.push(`  logic ok_y${ky};`, `  assign ok_y${ky} = ${c};`);
  }
  for (let kx = 0; kx < kw; kx++) {
    const c = moving ? cond('ox_q', sw, kx, pl, w, ow) : kx >= pl && kx < w + pl ? "1'b1" : "1'b0";
    okX.push(c === "1'b1" ? '' : `ok_x${kx}`);
    if (c !== "1'b1") decls.push(`  logic ok_x${kx};`, `  assign ok_x${kx} = ${c};`);
  }
  const ok = (ky: number, kx: number): string => [okY[ky]!, okX[kx]!].filter((t) => t !== '').join(' && ');
  const base0 = -pt * w - pl;
  const pos = (c: number, ky: number, kx: number): number => c * hw + mod(base0 + ky * w + kx, hw);
  const amtCol = mod(sw, hw);
  const amtRow = mod(sh * w - sw * (ow - 1), hw);
  const rotate: string[] = [];
  if (moving) {
    rotate.push('    end else if (pixel_done) begin');
    const n = s.in[0] * hw;
    for (let i = 0; i < n; i++) {
      const c = Math.floor(i / hw);
      const a = c * hw + mod((i % hw) + amtRow, hw);
      const b = c * hw + mod((i % hw) + amtCol, hw);
      rotate.push(a === b ? `      x_q[${i * 8 + 7}:${i * 8}] <= x_q[${a * 8 + 7}:${a * 8}];` : `      x_q[${i * 8 + 7}:${i * 8}] <= row_end ? x_q[${a * 8 + 7}:${a * 8}] : x_q[${b * 8 + 7}:${b * 8}];`);
    }
  }
  return {
    decls: decls.join('\n'),
    reset: moving ? '      oy_q   <= \'0;\n      ox_q   <= \'0;' : '',
    start: moving ? '        oy_q <= \'0;\n        ox_q <= \'0;' : '',
    step: moving
      ? `          if (row_end) begin\n            ox_q <= '0;\n            oy_q <= oy_q + ${cw(oh - 1)}'(1);\n          end else begin\n            ox_q <= ox_q + ${cw(ow - 1)}'(1);\n          end`
      : '',
    rotate: rotate.join('\n'),
    ok,
    pos,
  };
}

/** x - zp as a 9-bit signed value, for the element at `pos`. */
const centered = (pos: number, zp: number): string => `$signed({x_q[${pos * 8 + 7}], x_q[${pos * 8 + 7}:${pos * 8}]}) - $signed(${hex(zp, 9)})`;

function requantLines(lanes: number, steps: number, co: number, accW: number, mult: (c: number) => number, shift: (c: number) => number, zp: number, clamp: [number, number], pixels: number): string {
  const shw = cw(prodWidth(accW));
  const sw = cw(Math.max(0, steps - 1));
  const out: string[] = [];
  for (let ln = 0; ln < lanes; ln++) {
    const chans: number[] = [];
    for (let s = 0; s < steps; s++) if (s * lanes + ln < co) chans.push(s * lanes + ln);
    out.push(`  logic signed [AccW-1:0] rq_acc_${ln};`, `  logic [14:0] rq_mult_${ln};`, `  logic [${shw - 1}:0] rq_shift_${ln};`, `  logic signed [7:0] rq_y_${ln};`);
    if (steps === 1) {
      const c = chans[0]!;
      out.push(`  assign rq_acc_${ln} = racc_q_${c};`, `  assign rq_mult_${ln} = 15'd${mult(c)};`, `  assign rq_shift_${ln} = ${shw}'d${shift(c)};`);
    } else {
      out.push('  always_comb begin', '    unique case (s_q)');
      chans.forEach((c, s) => out.push(`      ${sw}'d${s}: begin rq_acc_${ln} = racc_q_${c}; rq_mult_${ln} = 15'd${mult(c)}; rq_shift_${ln} = ${shw}'d${shift(c)}; end`));
      out.push(`      default: begin rq_acc_${ln} = '0; rq_mult_${ln} = '0; rq_shift_${ln} = ${shw}'d1; end`, '    endcase', '  end');
    }
    out.push(
      `  gatec_sp_requant #(.AccWidth(AccW), .ShiftWidth(${shw})) u_rq_${ln} (`,
      `    .acc_i(rq_acc_${ln}), .mult_i(rq_mult_${ln}), .shift_i(rq_shift_${ln}),`,
      `    .zp_i(${hex(zp, 8)}), .lo_i(${hex(clamp[0], 8)}), .hi_i(${hex(clamp[1], 8)}), .y_o(rq_y_${ln})`,
      '  );',
    );
  }
  out.push('  always_ff @(posedge clk_i) begin');
  for (let c = 0; c < co; c++) {
    const ln = c % lanes;
    const s = Math.floor(c / lanes);
    const en = steps === 1 ? 'rq_q' : `rq_q && s_q == ${sw}'d${s}`;
    const lo = c * pixels * 8;
    const val = pixels === 1 ? `rq_y_${ln}` : `{rq_y_${ln}, y_q[${lo + pixels * 8 - 1}:${lo + 8}]}`;
    out.push(`    if (${en}) y_q[${lo + pixels * 8 - 1}:${lo}] <= ${val};`);
  }
  out.push('  end');
  return out.join('\n');
}

function common(s: ComputeStage, reuse: number, steps: number) {
  return {
    inBits: s.in[0] * s.in[1] * s.in[2] * 8,
    outBits: s.out[0] * s.pixels * 8,
    accWidth: s.accWidth,
    rw: cw(reuse - 1),
    reuseMax: reuse - 1,
    pw: cw(s.pixels - 1),
    pixelsMax: s.pixels - 1,
    sw: cw(steps - 1),
    stepsMax: steps - 1,
    layer: s.name,
    op: s.op,
    in: s.in.join('x'),
    out: s.out.join('x'),
  };
}

function macContext(s: MacStage, module: string): StageContext {
  const sc = scan(s);
  const [kh, kw] = s.kernel;
  const R = s.reuse;
  const J = s.perChannel;
  const rw = cw(R - 1);
  const tapExpr = (k: number): string => {
    const c = Math.floor(k / (kh * kw));
    const ky = Math.floor(k / kw) % kh;
    const kx = k % kw;
    const ok = sc.ok(ky, kx);
    const v = centered(sc.pos(c, ky, kx), s.zpIn);
    return ok ? `(${ok}) ? (${v}) : 9'sd0` : v;
  };
  const usedJ = [...new Set(s.mults.map((m) => m.j))].sort((a, b) => a - b);
  const taps: string[] = [];
  for (const j of usedJ) {
    taps.push(`  logic signed [8:0] tap_${j};`);
    if (R === 1) taps.push(`  assign tap_${j} = ${tapExpr(j)};`);
    else {
      taps.push('  always_comb begin', '    unique case (r_q)');
      for (let r = 0; r < R; r++) if (j + J * r < s.taps) taps.push(`      ${rw}'d${r}: tap_${j} = ${tapExpr(j + J * r)};`);
      taps.push("      default: tap_" + j + " = '0;", '    endcase', '  end');
    }
  }
  const macs: string[] = [];
  const byCo = new Map<number, Multiplier[]>();
  s.mults.forEach((m, n) => {
    const name = `prod_${m.co}_${m.j}`;
    macs.push(`  logic signed [16:0] ${name};`);
    if (m.kind === 'rom') {
      const rom = [...m.weights].reverse().map((w) => hex(w, 8)).join(', ');
      macs.push(`  localparam logic [${R * 8 - 1}:0] WRom_${m.co}_${m.j} = {${rom}};`);
      macs.push(`  assign ${name} = tap_${m.j} * $signed(WRom_${m.co}_${m.j}[r_q*8 +: 8]);`);
    } else {
      macs.push(`  assign ${name} = tap_${m.j} * $signed(${hex(m.weights[0]!, 8)});`);
    }
    void n;
    byCo.set(m.co, [...(byCo.get(m.co) ?? []), m]);
  });
  const co = s.out[0];
  const regs: string[] = [];
  for (let c = 0; c < co; c++) {
    const bias = `AccW'(32'sh${(s.bias[c]! >>> 0).toString(16)})`;
    const terms = (byCo.get(c) ?? []).map((m) => ` + AccW'(prod_${m.co}_${m.j})`).join('');
    macs.push(`  logic signed [AccW-1:0] acc_d_${c}, racc_q_${c};`);
    if (R > 1 && terms) {
      macs.push(`  logic signed [AccW-1:0] acc_q_${c};`);
      macs.push(`  assign acc_d_${c} = (r_q == '0 ? ${bias} : acc_q_${c})${terms};`);
      regs.push(`    if (mac_q) acc_q_${c} <= acc_d_${c};`);
    } else {
      macs.push(`  assign acc_d_${c} = ${bias}${terms};`);
    }
    regs.push(`    if (pixel_done) racc_q_${c} <= acc_d_${c};`);
  }
  macs.push('  always_ff @(posedge clk_i) begin', ...regs, '  end');
  const romMults = s.mults.filter((m) => m.kind === 'rom').length;
  return {
    module,
    header: '',
    ...common(s, R, s.steps),
    taps: s.taps,
    reuse: R,
    mults: s.mults.length,
    romMults,
    lanes: s.lanes,
    steps: s.steps,
    posDecls: sc.decls,
    posReset: sc.reset,
    posStart: sc.start,
    posStep: sc.step,
    rotate: sc.rotate,
    tapsText: taps.join('\n'),
    macsText: macs.join('\n'),
    requantText: requantLines(s.lanes, s.steps, co, s.accWidth, (c) => s.mult[c]!, (c) => s.shift[c]!, s.zpOut, s.clamp, s.pixels),
  };
}

function poolContext(s: PoolStage, module: string): StageContext {
  const sc = scan(s);
  const [kh, kw] = s.kernel;
  const c = s.out[0];
  const taps: string[] = [];
  const macs: string[] = [];
  const regs: string[] = [];
  for (let ch = 0; ch < c; ch++) {
    const terms: string[] = [];
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const name = `tap_${ch}_${ky}_${kx}`;
        const ok = sc.ok(ky, kx);
        const v = centered(sc.pos(ch, ky, kx), s.zpIn);
        taps.push(`  logic signed [8:0] ${name};`);
        if (s.op === 'avgpool') {
          taps.push(`  assign ${name} = ${ok ? `(${ok}) ? (${v}) : 9'sd0` : v};`);
          terms.push(`AccW'(${name})`);
        } else {
          // Outside the image a tap cannot win the max: -256 is below every x - zp.
          taps.push(`  logic signed [AccW-1:0] w${name};`);
          taps.push(`  assign ${name} = ${v};`);
          taps.push(`  assign w${name} = ${ok ? `(${ok}) ? AccW'(${name}) : -AccW'(256)` : `AccW'(${name})`};`);
          terms.push(`w${name}`);
        }
      }
    }
    macs.push(`  logic signed [AccW-1:0] acc_d_${ch}, racc_q_${ch};`);
    if (s.op === 'avgpool') macs.push(`  assign acc_d_${ch} = ${terms.join(' + ')};`);
    else {
      let e = terms[0]!;
      for (const t of terms.slice(1)) e = `(${e} > ${t}) ? ${e} : ${t}`;
      macs.push(`  always_comb begin`, `    acc_d_${ch} = ${terms[0]!};`);
      for (const t of terms.slice(1)) macs.push(`    if (${t} > acc_d_${ch}) acc_d_${ch} = ${t};`);
      macs.push('  end');
    }
    regs.push(`    if (pixel_done) racc_q_${ch} <= acc_d_${ch};`);
  }
  macs.push('  always_ff @(posedge clk_i) begin', ...regs, '  end');
  return {
    module,
    header: '',
    ...common(s, 1, 1),
    taps: kh * kw,
    reuse: 1,
    mults: 0,
    romMults: 0,
    lanes: c,
    steps: 1,
    posDecls: sc.decls,
    posReset: sc.reset,
    posStart: sc.start,
    posStep: sc.step,
    rotate: sc.rotate,
    tapsText: taps.join('\n'),
    macsText: macs.join('\n'),
    requantText: requantLines(c, 1, c, s.accWidth, () => s.mult, () => s.shift, s.zpOut, s.clamp, s.pixels),
  };
}

export function stageModuleName(top: string, i: number, s: ComputeStage): string {
  return `${top}_s${i}_${s.op}`;
}

export function stageContext(s: ComputeStage, module: string): StageContext {
  return s.kind === 'mac' ? macContext(s, module) : poolContext(s, module);
}

export function topContext(plan: SpatialPlan, top: string, modules: string[]) {
  const wires: string[] = [];
  const inst: string[] = [];
  plan.stages.forEach((s, i) => {
    const bits = s.in[0] * s.in[1] * s.in[2] * 8;
    wires.push(`  logic s${i}_valid, s${i}_ready;`, `  logic [${bits - 1}:0] s${i}_data;`);
    void s;
  });
  const n = plan.stages.length;
  const lastBits = plan.outElems * 8;
  wires.push(`  logic s${n}_valid, s${n}_ready;`, `  logic [${lastBits - 1}:0] s${n}_data;`);
  plan.stages.forEach((s, i) => {
    inst.push(
      `  // ${s.name} (${s.op})`,
      `  ${modules[i]} u_s${i} (`,
      '    .clk_i      (clk_i),',
      '    .rst_ni     (rst_ni),',
      `    .in_valid_i (s${i}_valid),`,
      `    .in_ready_o (s${i}_ready),`,
      `    .in_data_i  (s${i}_data),`,
      `    .out_valid_o(s${i + 1}_valid),`,
      `    .out_ready_i(s${i + 1}_ready),`,
      `    .out_data_o (s${i + 1}_data)`,
      '  );',
      '',
    );
  });
  return {
    top,
    model: plan.name,
    inElems: plan.inElems,
    outElems: plan.outElems,
    inCntW: cw(plan.inElems - 1),
    outCntW: cw(plan.outElems - 1),
    stageList: plan.stages.map((s) => `${s.name} (${s.op})`).join(', '),
    wires: wires.join('\n'),
    instances: inst.join('\n'),
    inShift: plan.inElems > 1 ? `{s_data_i, in_frame_q[InElems*8-1:8]}` : 's_data_i',
    outShift: plan.outElems > 1 ? `{8'h00, out_frame_q[OutElems*8-1:8]}` : "8'h00",
    lastReady: `s${n}_ready`,
    lastValid: `s${n}_valid`,
    lastData: `s${n}_data`,
  };
}
