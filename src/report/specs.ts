import type { ChannelGating, ZeroMap } from './golden-figures.js';
import type { BarDatum } from './view.js';

/**
 * The vega-lite specifications of report.html. Every data set is inline and named (`view.data(name)`
 * in the page gives it back, which the browser test reads), and plots render as SVG so their text
 * is in the DOM.
 */
export type Spec = Record<string, unknown>;

export interface NamedSpec {
  /** element id and data set name */
  id: string;
  title: string;
  spec: Spec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Grouped bars per layer (in layer order), one bar per kind. */
export function layerBars(id: string, title: string, data: readonly BarDatum[], unit: string, kinds: readonly string[]): NamedSpec {
  const order = [...new Map(data.map((d) => [d.index, d.layer])).entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l);
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      data: { name: id, values: data },
      width: { step: Math.max(12, Math.min(40, Math.floor(640 / Math.max(1, order.length * kinds.length)))) },
      height: 220,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'layer', type: 'nominal', sort: order, title: null, axis: { labelAngle: -40, labelLimit: 160 } },
        xOffset: { field: 'kind', type: 'nominal', sort: [...kinds] },
        y: { field: 'value', type: 'quantitative', title: unit },
        color: { field: 'kind', type: 'nominal', sort: [...kinds], title: null, scale: { range: ['#9aa9bc', '#1f6fb2', '#e07b39'] } },
      },
    },
  };
}

/**
 * One heatmap per tensor: the blocks of channel-block cb laid out as tiles of gh x gw, tiles in
 * rows of ceil(sqrt(gc)), with a blank row and column between tiles.
 */
export function zeroMapSpec(id: string, maps: readonly ZeroMap[]): NamedSpec {
  const values: { tensor: string; x: number; x2: number; y: number; y2: number; block: string; zero: string }[] = [];
  for (const m of maps) {
    const [gc, gh, gw] = m.grid;
    const cols = Math.ceil(Math.sqrt(gc));
    for (let cb = 0; cb < gc; cb++) {
      for (let hb = 0; hb < gh; hb++) {
        for (let wb = 0; wb < gw; wb++) {
          const bit = m.bitmap[(cb * gh + hb) * gw + wb];
          const x = (cb % cols) * (gw + 1) + wb;
          const y = Math.floor(cb / cols) * (gh + 1) + hb;
          values.push({
            tensor: m.tensor,
            x,
            x2: x + 1,
            y,
            y2: y + 1,
            block: `c${cb} h${hb} w${wb}`,
            zero: bit === '0' ? 'zero' : 'non-zero',
          });
        }
      }
    }
  }
  return {
    id,
    title: 'zero-block maps of sample 0',
    spec: {
      $schema: SCHEMA,
      data: { name: id, values },
      facet: { field: 'tensor', type: 'nominal', sort: maps.map((m) => m.tensor), title: null, header: { labelLimit: 220 } },
      columns: 3,
      resolve: { scale: { x: 'independent', y: 'independent' } },
      spec: {
        width: 200,
        height: 200,
        mark: { type: 'rect', tooltip: true },
        encoding: {
          // Quantitative with explicit ends, so the blank row and column between tiles stay blank.
          x: { field: 'x', type: 'quantitative', axis: null, scale: { zero: true, nice: false } },
          x2: { field: 'x2' },
          y: { field: 'y', type: 'quantitative', axis: null, scale: { zero: true, nice: false, reverse: true } },
          y2: { field: 'y2' },
          color: { field: 'zero', type: 'nominal', scale: { domain: ['zero', 'non-zero'], range: ['#e8edf3', '#1f6fb2'] }, title: null },
          tooltip: [{ field: 'tensor' }, { field: 'block' }, { field: 'zero' }],
        },
      },
    },
  };
}

/** Gated-off fraction per gated conv (bars) and per output channel (heatmap rows). */
export function gatingSpecs(gating: readonly ChannelGating[]): NamedSpec[] {
  const layers = gating.map((g) => g.layer);
  return [
    {
      id: 'gating',
      title: 'gated-off outputs per layer',
      spec: {
        $schema: SCHEMA,
        data: { name: 'gating', values: gating.map((g) => ({ layer: g.layer, gatedOff: g.gatedOff, base: g.baseChannels })) },
        width: 320,
        height: { step: 22 },
        mark: { type: 'bar', tooltip: true, color: '#e07b39' },
        encoding: {
          y: { field: 'layer', type: 'nominal', sort: layers, title: null },
          x: { field: 'gatedOff', type: 'quantitative', title: 'gated-off fraction', scale: { domain: [0, 1] }, axis: { format: '%' } },
        },
      },
    },
    {
      id: 'gatingChannels',
      title: 'gated-off fraction per output channel',
      spec: {
        $schema: SCHEMA,
        data: { name: 'gatingChannels', values: gating.flatMap((g) => g.channels.map((f, channel) => ({ layer: g.layer, channel, gatedOff: f }))) },
        width: { step: 10 },
        height: { step: 22 },
        mark: { type: 'rect', tooltip: true },
        encoding: {
          x: { field: 'channel', type: 'ordinal', axis: { labelAngle: 0, labelOverlap: true } },
          y: { field: 'layer', type: 'nominal', sort: layers, title: null },
          color: { field: 'gatedOff', type: 'quantitative', scale: { domain: [0, 1], scheme: 'oranges' }, title: 'gated off' },
        },
      },
    },
  ];
}
