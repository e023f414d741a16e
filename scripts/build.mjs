/**
 * @file Builds kiln with esbuild: the library entry, the `kiln` CLI, and on request the bench and the
 * examples. Type declarations come from `tsc --emitDeclarationOnly` (skipped with --fast).
 */
import { build } from 'esbuild';
import { existsSync, chmodSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const args = new Set(process.argv.slice(2));
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Native Dawn bindings and the server's deps stay as runtime imports.
  packages: 'external',
  banner: { js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);" },
};

const entries = {
  index: 'client/index.ts',
  ir: 'ir/index.ts',
  // The isolated reference device's worker thread (runtime/reference/isolate.ts loads it by path).
  'reference-worker': 'runtime/reference/worker.ts',
  // The server's front end for large request IR (server/front.ts loads it by path).
  'front-worker': 'server/front-worker.ts',
};
if (args.has('--examples')) {
  for (const f of existsSync('examples') ? readdirSync('examples') : []) {
    if (f.endsWith('.ts')) entries[`examples/${f.slice(0, -3)}`] = `examples/${f}`;
  }
}

const present = Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(src)));
await build({ ...common, entryPoints: present, outdir: 'dist' });
// The `kiln` bin: npm links it as an executable, so it must say which interpreter runs it.
if (existsSync('cli/kiln.ts')) {
  await build({ ...common, entryPoints: { cli: 'cli/kiln.ts' }, outdir: 'dist', banner: { js: `#!/usr/bin/env node\n${common.banner.js}` } });
  chmodSync('dist/cli.js', 0o755);
}

// The bench runs on GPU machines that get only Node.js and a trimmed node_modules holding webgpu and
// @jax-js/jax (../shared/tools/device-pack.sh), so everything else it imports is bundled into it.
if (args.has('--bench') && existsSync('bench/main.ts')) {
  const { packages: _, ...bundled } = common;
  await build({ ...bundled, entryPoints: { bench: 'bench/main.ts' }, outdir: 'dist', external: ['webgpu', '@jax-js/jax'] });
}

// The soak/load script (scripts/soak.ts, `npm run soak`) and the restart latency (scripts/restart-latency.ts).
if (args.has('--soak') && existsSync('scripts/soak.ts')) {
  await build({ ...common, entryPoints: { soak: 'scripts/soak.ts', 'restart-latency': 'scripts/restart-latency.ts' }, outdir: 'dist' });
}

// The dashboard page served by `kiln serve` (server/dashboard): bundled for the browser.
if (existsSync('server/dashboard/page/main.ts')) {
  const { buildDashboard } = await import('./build-dashboard.mjs');
  await buildDashboard('dist/dashboard');
}

if (!args.has('--fast') && !args.has('--bench') && !args.has('--soak') && !args.has('--examples') && existsSync('node_modules/typescript')) {
  try {
    execFileSync('node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  } catch {
    console.error('build: type declarations failed (see tsc output above); the JavaScript build is fine');
  }
}
