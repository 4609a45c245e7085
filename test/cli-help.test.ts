import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI } from './fixtures.js';

/** Every command of gatec has --help with an example, and the top-level help lists them all. */
async function help(...args: string[]): Promise<string> {
  const r = await execa('node', [CLI, ...args, '--help'], { reject: false });
  expect(r.exitCode).toBe(0);
  return r.stdout;
}

describe('gatec --help', () => {
  it('has an example for every command', async () => {
    const top = await help();
    expect(top).toMatch(/\nExample:\n {2}gatec build /);
    const list = top.slice(top.indexOf('Commands:'), top.indexOf('\nExample:'));
    const commands = [...list.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['inspect', 'import', 'run', 'sparsity', 'gate', 'prune', 'build', 'sim', 'csim', 'report']));
    const texts = await Promise.all(commands.map(async (c) => [c, await help(c)] as const));
    for (const [c, text] of texts) {
      expect(text, c).toContain(`Usage: gatec ${c}`);
      expect(text, c).toMatch(new RegExp(`\\nExample:\\n {2}gatec ${c} `));
    }
  });
});
