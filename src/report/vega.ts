import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The plotting library of report.html, read from node_modules when the report is written and
 * inlined, so the page needs no network: vega, vega-lite and vega-embed (all BSD-3-Clause, which
 * allows redistribution with the notice: their LICENSE files go into the page next to the code).
 */
export interface InlineScript {
  /** npm package name */
  name: string;
  version: string;
  license: string;
  code: string;
}

/** In load order: vega-lite needs the global `vega`, vega-embed both. */
const BUNDLES = [
  { name: 'vega', file: 'build/vega.min.js' },
  { name: 'vega-lite', file: 'build/vega-lite.min.js' },
  { name: 'vega-embed', file: 'build/vega-embed.min.js' },
] as const;

const require = createRequire(import.meta.url);

/**
 * The package's root directory. Their `exports` maps hide build/*.min.js from require.resolve, so
 * resolve the main entry and walk up to the package.json that names the package (wherever npm
 * hoisted it: beside gatec's own node_modules or in an installing project's).
 */
function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === name) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package directory of ${name}`);
    dir = up;
  }
}

/**
 * Makes minified code safe inside an inline <script>: no `</script` can end the element early,
 * and no source map comment sends the browser to the network for a file that is not there.
 */
export function inlineSafe(code: string): string {
  return code.replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, '').replace(/<\/(script)/gi, '<\\/$1');
}

let cache: InlineScript[] | undefined;

export function vegaScripts(): InlineScript[] {
  cache ??= BUNDLES.map(({ name, file }) => {
    const root = packageRoot(name);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    return {
      name,
      version: pkg.version,
      license: readFileSync(join(root, 'LICENSE'), 'utf8').trim(),
      code: inlineSafe(readFileSync(join(root, file), 'utf8')),
    };
  });
  return cache;
}
