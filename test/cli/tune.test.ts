/**
 * @file `kiln tune` as users run it (`node dist/cli.js`): it tunes every dot_general of a module,
 * prints each class's candidates with times and the choice, writes the cache under
 * KILN_CACHE_DIR, and with --cached a second run reads the cache instead of timing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR } from '../helpers/corpus.js';

const exec = promisify(execFile);

async function tune(cacheDir: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, ['dist/cli.js', 'tune', join(CORPUS_DIR, 'mlp_forward.mlir'), ...args], {
    env: { ...process.env, KILN_CACHE_DIR: cacheDir, KILN_TUNE: '' },
  });
  return stdout;
}

describe('kiln tune', () => {
  it('prints candidates and choices, writes the cache, and --cached reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tune-cli-'));
    const out = JSON.parse(await tune(dir, '--json')) as {
      cache: string; classes: { class: string; cached: boolean; chosen: number; candidates: { ms: number | null; heuristic: boolean }[] }[];
    };
    expect(out.classes.length).toBeGreaterThan(0);
    for (const c of out.classes) {
      expect(c.cached).toBe(false);
      expect(c.class).toMatch(/^tiled b\d+ m\d+ n\d+ k\d+ /);
      expect(c.candidates.filter((x) => x.heuristic)).toHaveLength(1);
      const ms = c.candidates.map((x) => x.ms ?? Infinity);
      expect(c.chosen).toBe(ms.indexOf(Math.min(...ms)));
    }
    expect(readdirSync(dir)).toEqual([out.cache.slice(dir.length + 1)]);
    const doc = JSON.parse(readFileSync(out.cache, 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(doc.entries)).toHaveLength(out.classes.length);
    const text = await tune(dir, '--cached');
    expect(text).toContain('from the cache');
    expect(text).toContain('<- chosen');
  }, 120_000);
});
