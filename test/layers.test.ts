/**
 * @file The layers and the no-circles rule (`.dependency-cruiser.cjs`), checked on every `npm test`:
 * dependency-cruiser reads every source folder's imports, type-only ones included, and any
 * violation fails this test with the checker's own report.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The folders the rules speak of; the same list as `npm run deps`. */
const FOLDERS = ['ir', 'compiler', 'runtime', 'client', 'server', 'cli', 'bench', 'examples'];

describe('layers', () => {
  it('no import breaks a layer rule or closes a circle', () => {
    // The cache (keyed by each file's content) skips re-reading unchanged files: about 2 s instead of 6.
    const args = [...FOLDERS, '--config', '.dependency-cruiser.cjs', '--cache', 'node_modules/.cache/dependency-cruiser', '--cache-strategy', 'content'];
    const run = spawnSync(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', ...args], { encoding: 'utf8' });
    const report = `${run.stdout}${run.stderr}`;
    expect(run.error, 'dependency-cruiser did not start').toBeUndefined();
    expect(run.status, `dependency-cruiser found violations:\n${report}`).toBe(0);
    // A run that cruised nothing (a renamed folder, a config that excludes everything) is no check.
    const cruised = /(\d+) modules, (\d+) dependencies cruised/.exec(report);
    expect(cruised, `unexpected dependency-cruiser output:\n${report}`).not.toBeNull();
    expect(Number(cruised![1])).toBeGreaterThan(200);
  }, 60_000);
});
