/**
 * @file First-call latency of a restarted `kiln serve`, with and without its compiled programs on
 * disk: (1) a fresh server on an empty --cache-dir, (2) a restart on that directory (IR and
 * compiled program there: loaded, kiln_artifacts_loaded_total 1), (3) a restart after deleting
 * the compiled programs (IR only, as before they were kept: compiled again). Each time: the wall
 * time of the first POST /run of the module, from request to reply, and the server's compile
 * counters. The default module is generated: LAYERS layers of a 64x64 matmul and tanh (one kernel
 * or more a layer).
 *   node scripts/build.mjs --soak && node dist/restart-latency.js [--module FILE.mlir] [--layers 48] [--device webgpu|reference]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { parseModule } from '../ir/parse/parser.js';
import { mainFunc } from '../ir/types.js';
import { hostTensor } from '../runtime/tensor.js';
import { encodeTensor } from '../runtime/wire.js';
import type { SupportedDType } from '../ir/dtype.js';

function layers(n: number): string {
  const t = 'tensor<64x64xf32>';
  const lines = [`func.func @main(%x: ${t}, %w: ${t}) -> ${t} {`];
  let v = '%x';
  for (let i = 0; i < n; i++) {
    lines.push(`  %d${i} = stablehlo.dot_general ${v}, %w, contracting_dims = [1] x [0] : (${t}, ${t}) -> ${t}`);
    lines.push(`  %h${i} = stablehlo.tanh %d${i} : ${t}`);
    v = `%h${i}`;
  }
  lines.push(`  return ${v} : ${t}`, '}');
  return lines.join('\n');
}

async function serve(cli: string, device: string, dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--device', device, '--cache-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KILN_DEVICE: '' } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`kiln serve exited ${code}: ${out}`)));
  });
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

async function main(argv: string[]): Promise<void> {
  const arg = (f: string) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
  const device = arg('--device') ?? 'webgpu';
  const file = arg('--module');
  const text = file ? readFileSync(file, 'utf8') : layers(Number(arg('--layers') ?? 48));
  const fn = mainFunc(parseModule(text, file ?? 'layers.mlir'));
  const inputs = fn.args.map((a) => encodeTensor(hostTensor(a.type.dtype as SupportedDType, a.type.shape, undefined)));
  const body = encode({ ir: text, inputs });
  const dir = mkdtempSync(join(tmpdir(), 'kiln-restart-'));
  const rows: string[] = ['| server | first POST /run ms | compiled | loaded from disk |', '|---|---:|---:|---:|'];
  try {
    for (const [name, before] of [['fresh, empty cache dir', () => {}], ['restart, compiled program on disk', () => {}], ['restart, IR only (compiled programs deleted)', () => rmSync(join(dir, 'artifacts'), { recursive: true, force: true })]] as const) {
      before();
      const { child, url } = await serve('dist/cli.js', device, dir);
      const t0 = performance.now();
      const r = await fetch(`${url}/run`, { method: 'POST', body, headers: { 'content-type': 'application/msgpack' } });
      await r.arrayBuffer();
      const ms = performance.now() - t0;
      if (r.status !== 200) throw new Error(`POST /run: HTTP ${r.status}`);
      const m = await (await fetch(`${url}/metrics`)).text();
      rows.push(`| ${name} | ${ms.toFixed(0)} | ${metric(m, 'kiln_programs_compiled_total')} | ${metric(m, 'kiln_artifacts_loaded_total')} |`);
      await new Promise((res) => { child.once('exit', res); child.kill('SIGTERM'); });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${file ?? `generated: ${arg('--layers') ?? 48} layers of 64x64 matmul + tanh`} on ${device}\n${rows.join('\n')}\n`);
}

main(process.argv.slice(2)).catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exitCode = 1; });
