/**
 * @file The bench's command line: `[--json] [--sizes smoke|full] [--only name,...] [--reps N]
 * [--warmup N] [--no-jax] [--xla [--xla-python PATH]] [--dawn opt,...] [--md FILE] [--profile [FILE]]`, parsed strictly (an unknown flag or workload is an
 * error, so a typo never silently benchmarks something else).
 */
import type { BenchOptions } from './run.js';
import { WORKLOADS, type SizeSet } from './workloads.js';

/** Help text. */
export const USAGE = `usage: node dist/bench.js [--json] [--sizes smoke|full] [--only name,...] [--reps N] [--warmup N] [--warmup-ms N] [--calls N] [--no-jax] [--xla] [--xla-python PATH] [--xla-script FILE] [--xla-json FILE] [--dawn opt,...] [--md FILE] [--profile [FILE]]
  workloads: ${WORKLOADS.map((w) => w.name).join(', ')}
  --calls   calls queued back to back per sample (default 1): the steady state of a loop
  --dawn    Dawn options for webgpu's create() (default: KILN_DAWN), e.g.
            'enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia'
  --md      also write the Markdown table to FILE
  --profile after each kiln row's timing, profile its program per kernel (GPU ms, bytes, GB/s,
            TFLOP/s, % of the H200 roofline) on the row's inputs: Markdown to FILE, one section
            per row (stderr without FILE), and with --json in each row as kiln_profile
  --xla     also run the workloads through JAX (XLA) in a child Python on the same GPU (bench/xla.py),
            before kiln and jax-js; --xla-python picks the interpreter (default python3);
            --xla-json FILE merges an earlier xla.py run's JSON instead of running it`;

/** Parsed command line. */
export interface CliArgs extends BenchOptions {
  json: boolean;
  /** Also write the Markdown table to this file (one GPU run gives both forms). */
  markdown?: string;
  /** With `--profile FILE`: where the per-kernel sections go (without FILE: stderr). */
  profileFile?: string;
}

/** A bad command line (an empty message asks for the help text only). */
export class UsageError extends Error {}

function intArg(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} needs a non-negative integer, got '${v}'`);
  return n;
}

/** Parses the bench's arguments (throws on anything unknown). */
export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { json: false, sizes: 'full' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') && a.startsWith('--') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--json': out.json = true; break;
      case '--no-jax': out.noJax = true; break;
      case '--xla': out.xla = true; break;
      case '--xla-python': case '--xla-script': case '--xla-json': {
        const v = value();
        if (!v) throw new UsageError(`${flag} needs a path`);
        if (flag === '--xla-python') out.xlaPython = v; else if (flag === '--xla-script') out.xlaScript = v; else out.xlaJson = v;
        break;
      }
      case '--sizes': {
        const s = value();
        if (s !== 'smoke' && s !== 'full') throw new UsageError(`--sizes must be smoke or full, got '${s}'`);
        out.sizes = s as SizeSet;
        break;
      }
      case '--only': out.only = (value() ?? '').split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--reps': out.reps = Math.max(1, intArg('--reps', value())); break;
      case '--warmup': out.warmup = intArg('--warmup', value()); break;
      case '--warmup-ms': out.warmupMs = intArg('--warmup-ms', value()); break;
      case '--calls': out.calls = Math.max(1, intArg('--calls', value())); break;
      case '--md': {
        const f = value();
        if (!f) throw new UsageError('--md needs a file name');
        out.markdown = f;
        break;
      }
      case '--profile': {
        out.profile = true;
        // FILE is optional: the next argument is it unless it is another flag (the bench has no positional arguments).
        const f = inline ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-') ? argv[++i] : undefined);
        if (f === '') throw new UsageError('--profile= needs a file name');
        if (f !== undefined) out.profileFile = f;
        break;
      }
      case '--dawn': out.dawn = (value() ?? '').split(/,(?=[^,=]+=)/).filter(Boolean); break;
      case '--help': case '-h': throw new UsageError('');
      default: throw new UsageError(`unknown argument '${a}'`);
    }
  }
  if ((out.xlaPython || out.xlaScript) && !out.xla) throw new UsageError('--xla-python and --xla-script need --xla');
  const names = new Set(WORKLOADS.map((w) => w.name));
  const bad = (out.only ?? []).filter((n) => !names.has(n));
  if (bad.length) throw new UsageError(`unknown workload ${bad.join(', ')}`);
  return out;
}

