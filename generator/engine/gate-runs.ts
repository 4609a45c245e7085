import { rowWidths, type EngineConfig } from './config.js';
import type { ConvInstr, Instr } from './isa.js';

/**
 * Gated convs of a sample (docs/engine.md, "Channel gating"), replayed from the program: for every
 * gate-mode CONV the gated-on output activations and its compute cycles, cycle by cycle as
 * templates/rtl/engine/gatec_gconv.sv runs them (load walker, base pass, gate bits as they become
 * known, the picked rest channels, emission and the output writer). The gate bits come from the
 * golden model; without them every gate is on (the figure report.json gives).
 */

/** Gate bits of one gated conv's output, (co, y, x) order, 1 = on: golden/gating.ts `gates`. */
export interface LayerGates {
  gates: Uint8Array;
  /** [Cout, outH, outW] */
  shape: readonly [number, number, number];
}

export interface GateConvRun {
  /** output activations whose rest pass ran */
  gatedOn: number;
  /** issue to idle of the compute unit */
  cycles: number;
}

/** Per gate-mode CONV (by program index), for the sample whose gate bits by layer tag are `gates`. */
export function gateConvRuns(program: readonly Instr[], c: EngineConfig, gates?: ReadonlyMap<number, LayerGates>): Map<number, GateConvRun> {
  const out = new Map<number, GateConvRun>();
  program.forEach((i, k) => {
    if (i.op === 'conv' && i.gate) out.set(k, gateConv(i, c, gates?.get(i.tag)));
  });
  return out;
}

/** The on-lane masks of each group of each pixel of the instruction's band. */
function pixelMasks(i: ConvInstr, c: EngineConfig, g?: LayerGates): Uint32Array[] {
  const pixels: Uint32Array[] = [];
  const oy0 = (i.iy0 + i.pt) / i.sh;
  for (let oy = 0; oy < i.oyCnt; oy++) {
    for (let ox = 0; ox < i.outW; ox++) {
      const m = new Uint32Array(i.ng);
      for (let grp = 0; grp < i.ng; grp++) {
        let bits = 0;
        for (let r = 0; r < c.peOc; r++) {
          const co = grp * c.peOc + r;
          let on: boolean;
          if (!g) on = true;
          else on = co < g.shape[0] && g.gates[(co * g.shape[1] + oy0 + oy) * g.shape[2] + ox] === 1;
          if (on) bits |= 1 << r;
        }
        m[grp] = bits >>> 0;
      }
      pixels.push(m);
    }
  }
  return pixels;
}

const lowestBit = (m: number): number => 31 - Math.clz32(m & -m);

function gateConv(i: ConvInstr, c: EngineConfig, g?: LayerGates): GateConvRun {
  const gate = i.gate!;
  const masks = pixelMasks(i, c, g);
  const npix = masks.length;
  const ng = i.ng;
  const T = i.kh * i.kw * i.nciw;
  const tb = i.gstride;
  const tbe = Math.max(tb, 2);
  const crest = gate.crest;
  const wpp = Math.max(1, c.peOc / c.peIc);
  // the load walker takes word j and j+1 of a tap at once when j+1 holds rest channels only and
  // both sit in one in-buffer row (channel words adjacent, word j not the row's last)
  const wordsPerRow = rowWidths(c).wa / c.peIc;
  const canPair = wordsPerRow > 1 && c.peOc > 1 && i.cwStride === 1;
  const pairAt = (p: number, w: number): boolean => {
    const j = w % i.nciw;
    if (!canPair || j + 1 >= i.nciw || j + 1 < gate.nb) return false;
    const tap = Math.floor(w / i.nciw);
    const ky = Math.floor(tap / i.kw);
    const kx = tap % i.kw;
    const oy = Math.floor(p / i.outW);
    const ox = p % i.outW;
    const addr = i.inStart + oy * i.sh * i.inPitch + ox * i.sw * i.ncgIn + ky * i.inPitch + kx * i.ncgIn + j * i.cwStride;
    return (((addr % wordsPerRow) + wordsPerRow) % wordsPerRow) !== wordsPerRow - 1;
  };
  // ---- state (register values during the current cycle)
  let state: 'setup' | 'run' | 'drain' | 'idle' = 'setup';
  let su = 0;
  // load walker
  let lact = true;
  let lhalf = 0;
  let lw = 0;
  let lp = 0;
  let ldone = false;
  let ldV = false;
  let ldLast = false;
  let ldHalf = 0;
  const rfFull = [false, false];
  // compute
  let cst: 'wait' | 'base' | 'rest' = 'wait';
  let chalf = 0;
  let cp = 0;
  let cdone = false;
  let cg = 0;
  let cbt = 0;
  let known = 0;
  const gateBits = new Uint32Array(ng);
  let ract = false;
  let ri = 0;
  // pipeline: [valid, rest, last, group] per stage
  type Stage = { v: boolean; m: boolean; l: boolean; g: number };
  const idle: Stage = { v: false, m: false, l: false, g: 0 };
  let s1 = idle;
  let s2 = idle;
  let s3 = idle;
  // emission
  const accBusy = [false, false];
  const pend = [false, false];
  const wait = [0, 0];
  let emitAct = false;
  let emitHalf = 0;
  let emitGi = 0;
  let gap = 0;
  let erV = false;
  let resV = false;
  let writerBusyUntil = -1;
  let emitWleft = 0;
  let gatedOn = 0;
  let emitWleftAtRes = 0;
  let erWleft = 0;

  for (let n = 1; ; n++) {
    if (state === 'idle') return { gatedOn, cycles: n };
    // ---- combinational
    const lStep = lact;
    const lPair = lact && pairAt(lp, lw);
    const lLastTap = (lPair ? lw + 1 : lw) === T - 1;
    let pickG = -1;
    for (let q = 0; q < ng; q++) {
      if (gateBits[q] !== 0) {
        pickG = q;
        break;
      }
    }
    const pickV = pickG >= 0;
    const baseValid = cst === 'base' && cbt < tb;
    const baseGrpLast = cst === 'base' && cbt === tbe - 1;
    const baseLast = baseValid && cbt === tb - 1;
    const restIssue: boolean = cst === 'rest' && (ract || pickV);
    const restFirst = cst === 'rest' && !ract && pickV;
    const curI = ract ? ri : 0;
    const restLast: boolean = restIssue && curI === crest - 1;
    // a gated-on channel left besides the one issuing now
    let moreV = pickV;
    if (!ract && pickV) {
      moreV = (gateBits[pickG]! & ~(1 << lowestBit(gateBits[pickG]!))) !== 0;
      for (let q = 0; q < ng && !moreV; q++) if (q !== pickG && gateBits[q] !== 0) moreV = true;
    }
    const pixEnd: boolean = cst === 'rest' && known === ng && ((!ract && !pickV) || (restLast && !moreV));
    const startNext: boolean = pixEnd && cp + 1 < npix && state === 'run' && rfFull[chalf ^ 1]! && !accBusy[chalf ^ 1];
    const canStart = cst === 'wait' && state === 'run' && !cdone && rfFull[chalf]! && !accBusy[chalf];
    const bdone = s3.v && !s3.m && s3.l;
    const emitSel = pend[0] && pend[1] ? chalf : pend[1] ? 1 : 0;
    const emitStart = !emitAct && pend[emitSel]! && wait[emitSel] === 0;
    const emitFire = emitAct && gap === 0;
    const wrBusy = resV || n <= writerBusyUntil;
    const allDone = cdone && cst === 'wait' && !emitAct && !pend[0] && !pend[1] && !s1.v && !s2.v && !s3.v && !erV && !resV && !wrBusy;

    // ---- register updates
    const n1: Stage = { v: baseValid || restIssue, m: restIssue, l: restIssue ? restLast : baseLast, g: restIssue ? pickG : cg };
    if (resV) writerBusyUntil = n + resWords(emitWleftAtRes, wpp, c);
    // load side
    const startLoad = !lact && !ldone && !rfFull[lhalf] && !(ldV && ldHalf === lhalf);
    if (ldV && ldLast) rfFull[ldHalf] = true;
    const nldV = lStep;
    const nldLast = lLastTap;
    const nldHalf = lhalf;
    if (startLoad) lact = true;
    else if (lStep) {
      if (!lLastTap) lw += lPair ? 2 : 1;
      else {
        lw = 0;
        lact = false;
        lhalf ^= 1;
        if (++lp === npix) ldone = true;
      }
    }
    ldV = nldV;
    ldLast = nldLast;
    ldHalf = nldHalf;
    // state
    if (state === 'setup') {
      if (++su === c.peOc + ng) state = 'run';
    } else if (state === 'run') {
      if (allDone) state = 'drain';
    } else if (state === 'drain') state = 'idle';
    // compute
    const pixHalf = chalf;
    if (cst === 'wait') {
      if (canStart) {
        cst = 'base';
        cg = 0;
        cbt = 0;
        known = 0;
        accBusy[chalf] = true;
      }
    } else if (cst === 'base') {
      if (baseGrpLast) {
        cbt = 0;
        if (cg === ng - 1) cst = 'rest';
        cg++;
      } else cbt++;
    } else {
      if (restIssue) {
        if (restLast) ract = false;
        else {
          ract = true;
          ri = curI + 1;
        }
      }
      if (pixEnd) {
        cst = startNext ? 'base' : 'wait';
        if (startNext) {
          cg = 0;
          cbt = 0;
          known = 0;
          accBusy[chalf ^ 1] = true;
        }
        rfFull[chalf] = false;
        pend[chalf] = true;
        wait[chalf] = 3;
        chalf ^= 1;
        if (++cp === npix) cdone = true;
      }
    }
    if (bdone) {
      gateBits[s3.g] = masks[cp]![s3.g]!;
      known++;
    }
    if (restFirst) {
      gateBits[pickG] = (gateBits[pickG]! & ~(1 << lowestBit(gateBits[pickG]!))) >>> 0;
      gatedOn++;
    }
    // emission
    for (let k = 0; k < 2; k++) {
      if (wait[k] !== 0 && !(pixEnd && pixHalf === k)) wait[k]!--;
    }
    let emitWleftAtFire = -1;
    if (emitStart) {
      emitAct = true;
      emitHalf = emitSel;
      emitGi = 0;
      emitWleft = i.wordsLeft;
      pend[emitSel] = false;
    }
    if (emitAct && emitFire) {
      emitWleftAtFire = emitWleft;
      emitWleft -= wpp;
      if (emitGi === ng - 1) {
        emitAct = false;
        accBusy[emitHalf] = false;
      }
      emitGi++;
    }
    if (emitFire) gap = wpp - 1;
    else if (gap !== 0) gap--;
    resV = erV;
    emitWleftAtRes = erWleft;
    erV = emitFire;
    erWleft = emitWleftAtFire;
    s3 = s2;
    s2 = s1;
    s1 = n1;
  }
}

/** Words the output writer writes for one emitted group. */
function resWords(wleft: number, wpp: number, c: EngineConfig): number {
  if (c.peOc <= c.peIc) return 1;
  return Math.min(wpp, wleft);
}
