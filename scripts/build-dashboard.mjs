/**
 * @file Bundles the dashboard page (server/dashboard/page/main.ts) for the browser into one script, and
 * copies its HTML and CSS beside it: everything `kiln serve` needs at / and /assets/*, no CDN.
 * Used by scripts/build.mjs and by the dashboard test (which builds into a temporary folder).
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export async function buildDashboard(outdir = 'dist/dashboard') {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { main: 'server/dashboard/page/main.ts' },
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join('server/dashboard', f), join(outdir, f));
}
