/**
 * @file Vitest global setup: builds the bundles (CLI, library, dashboard) once, so tests that run
 * `node dist/cli.js` or serve the dashboard use the code under test, never a stale build.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--fast'], { stdio: 'inherit' });
}
