import { describe, expect, it } from 'vitest';
import { inlineSafe, vegaScripts } from '../src/report/vega.js';
import { parseYosysStat } from '../src/report/view.js';

describe('report.html pieces', () => {
  it('reads the cell counts of a Yosys stat listing (synth-stat.txt)', () => {
    const stat = [
      '=== m ===',
      '',
      '   Number of wires:                 10',
      '   Number of cells:                 35',
      '     BUFG                            1',
      '     DSP48E1                         1',
      '     $_DFF_P_                        16',
    ].join('\n');
    expect(parseYosysStat(stat)).toEqual([
      { cell: 'cells', count: 35 },
      { cell: 'BUFG', count: 1 },
      { cell: 'DSP48E1', count: 1 },
      { cell: '$_DFF_P_', count: 16 },
    ]);
  });

  it('inlines the plotting library safely: no closing script tag, no source map request', () => {
    expect(inlineSafe('a="</script>";\n//# sourceMappingURL=x.js.map\n')).toBe('a="<\\/script>";');
    const scripts = vegaScripts();
    expect(scripts.map((s) => s.name)).toEqual(['vega', 'vega-lite', 'vega-embed']);
    for (const s of scripts) {
      expect(s.license).toMatch(/Copyright/);
      expect(s.code).not.toMatch(/<\/script|sourceMappingURL/i);
    }
  });
});
