/**
 * Just enough C++ reading for the tests that check generated HLS kernels for what Vitis cannot
 * synthesize (test/hls-source.test.ts, test/spatial-hls-source.test.ts).
 */

/** Source with comments and string literals blanked (lengths kept, so offsets match the text). */
export function code(text: string): string {
  const blank = (m: string) => m.replace(/[^\n]/g, ' ');
  return text
    .replace(/\/\*[\s\S]*?\*\//g, blank)
    .replace(/\/\/.*$/gm, blank)
    .replace(/"(?:[^"\\\n]|\\.)*"/g, (m) => `"${' '.repeat(m.length - 2)}"`);
}

/**
 * Function (and method) definitions of blanked source: name and body. `scope` may prefix a name
 * by where its definition starts (a namespace, say).
 */
export function functions(src: string, scope: (offset: number) => string | undefined = () => undefined): { name: string; body: string }[] {
  const out: { name: string; body: string }[] = [];
  const head = /(?:^|\n)[ \t]*(?:inline\s+|static\s+|constexpr\s+)*(?:const\s+)?[\w:<>]+[\s*&]+(\w+)\s*\(([^;{}]*)\)\s*(?:const\s*)?\{/g;
  for (let m = head.exec(src); m; m = head.exec(src)) {
    if (['if', 'for', 'while', 'switch'].includes(m[1]!)) continue;
    let depth = 1;
    let i = head.lastIndex;
    while (depth > 0 && i < src.length) {
      if (src[i] === '{') depth++;
      else if (src[i] === '}') depth--;
      i++;
    }
    const ns = scope(m.index);
    out.push({ name: ns ? `${ns}::${m[1]!}` : m[1]!, body: src.slice(head.lastIndex, i - 1) });
  }
  return out;
}

/** A cycle of the call graph (caller -> callees), if there is one: recursion. */
export function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'open');
    path.push(n);
    for (const m of graph.get(n) ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    path.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of graph.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}
