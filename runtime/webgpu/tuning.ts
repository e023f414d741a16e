/**
 * @file The matmul autotuner: for each dot_general shape class (batch, M, N, K rounded up to
 * powers of two, element types, operand layouts) it times the tile candidates of the kernel that
 * runs it on random inputs of that shape, keeps the fastest, and remembers it in a JSON file per
 * adapter (`KILN_CACHE_DIR`, default `~/.cache/kiln/tuning-<adapter hash>.json`), keyed by
 * compiler version and shape class. Compiles read the choices through `Target.matmulTile` and
 * `Target.sgmmTile`, so the compiler stays pure and later processes time nothing.
 *
 * `KILN_TUNE` sets the mode: unset, the cache is read and nothing is timed (compiles stay fast
 * and repeatable); `1` also times the classes the cache lacks; `0` ignores the cache (the static
 * heuristic alone). A cache that cannot be read or parsed is ignored with a warning.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Module } from '../../ir/types.js';
import { parseModule } from '../../ir/parse/parser.js';
import { COMPILER_VERSION, compile } from '../../compiler/compile.js';
import { encodeStorage, type MatmulProblem, type Program, type Target } from '../../compiler/program.js';
import { MATMUL_TILES, type MatmulTile } from '../../compiler/codegen/tiles.js';
import { SGMM_TILES, type SgmmTile } from '../../compiler/codegen/matmul-sgmm.js';
import type { RunProfile } from '../device.js';
import { GpuExecutable, type GpuContext } from './executor.js';
import { STORAGE_USAGE } from './buffers.js';

/** `off`: heuristic only; `read`: tuned tiles from the cache, no timing; `tune`: also time what the cache lacks. */
export type TuneMode = 'off' | 'read' | 'tune';

/** Version of the cache file's layout. */
const FORMAT = 1;

/** A tile of either kernel; null stands for the heuristic's own choice when no table entry gives it. */
export type AnyTile = MatmulTile | SgmmTile;

/** One timed candidate. */
export interface CandidateTime {
  /** The tile, or null: the heuristic's choice outside the table (the smallest fallback tile). */
  tile: AnyTile | null;
  /** GPU milliseconds per run (median), or null when it was the only distinct candidate (not timed). */
  ms: number | null;
  /** Whether this is what the static heuristic picks. */
  heuristic: boolean;
}

/** What the cache holds for one shape class. */
export interface TuningEntry {
  kernel: MatmulProblem['kernel'];
  tile: AnyTile | null;
  /** The problem that was timed, `BxMxNxK`. */
  timedOn: string;
  candidates: CandidateTime[];
}

/** One problem's outcome in {@link TileTuner.tune}: the candidates and the chosen one. */
export interface TuneResult {
  problem: MatmulProblem;
  key: string;
  entry: TuningEntry;
  /** Index into `entry.candidates` of the chosen tile. */
  chosen: number;
  /** The entry came from the cache (nothing was timed). */
  cached: boolean;
}

/** Times one program: GPU milliseconds per run on `inputs` (storage bytes of each argument). */
export type TimeProgram = (program: Program, inputs: Uint8Array[]) => Promise<number>;

/** What `KILN_TUNE` asks for: `1`/`on` tune, `0`/`off` off, anything else (unset) read. */
export function tuneModeFromEnv(v = process.env.KILN_TUNE): TuneMode {
  if (v === '1' || v === 'on' || v === 'true') return 'tune';
  if (v === '0' || v === 'off' || v === 'false') return 'off';
  return 'read';
}

/** `KILN_CACHE_DIR`, else `~/.cache/kiln`. */
export function defaultCacheDir(): string {
  return process.env.KILN_CACHE_DIR || join(homedir(), '.cache', 'kiln');
}

/** The smallest power of two at least `n`: classes share a tile across shapes of similar size. */
export function sizeBucket(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

/** The shape class of a problem, e.g. `tiled b1 m1024 n1024 k1024 f32,f32->f32 km`. */
export function shapeClass(p: MatmulProblem): string {
  const [a, b, c] = p.dtypes;
  return `${p.kernel} b${sizeBucket(p.batch)} m${sizeBucket(p.m)} n${sizeBucket(p.n)} k${sizeBucket(p.k)} ${a},${b}->${c} ${p.lhs}${p.rhs}`;
}

/** The full key of a tuned choice: the adapter, the compiler version and the shape class. */
export function tuningKey(adapter: string, compilerVersion: string, p: MatmulProblem): string {
  return `${adapter}|${compilerVersion}|${shapeClass(p)}`;
}

/** The cache file of an adapter under `dir`. */
export function cacheFile(dir: string, adapter: string): string {
  return join(dir, `tuning-${createHash('sha256').update(adapter).digest('hex').slice(0, 16)}.json`);
}

function sameTile(a: AnyTile | null, b: AnyTile | null): boolean {
  if (a === null || b === null) return a === b;
  const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && (a as unknown as Record<string, unknown>)[k] === (b as unknown as Record<string, unknown>)[k]);
}

/** The table a kernel's candidates come from; a cached tile must be one of them (else the entry is dropped). */
function table(kernel: MatmulProblem['kernel']): readonly AnyTile[] {
  return kernel === 'tiled' ? MATMUL_TILES : SGMM_TILES;
}

/** A fresh table entry equal to `t` (cached tiles are never trusted as generated-code input). */
function known(kernel: MatmulProblem['kernel'], t: unknown): AnyTile | null | undefined {
  if (t === null) return null;
  if (typeof t !== 'object') return undefined;
  return table(kernel).find((x) => sameTile(x, t as AnyTile));
}

function warn(msg: string): void {
  process.emitWarning(msg, 'KilnTuningWarning');
}

/** StableHLO text of a lone dot_general with `p`'s sizes, element types and layouts. */
export function problemModule(p: MatmulProblem): string {
  const { batch: B, m: M, n: N, k: K } = p;
  const bd = B > 1 ? [B] : [];
  const nb = bd.length;
  const ty = (dims: number[], d: string) => `tensor<${[...dims, ''].join('x')}${d}>`;
  const lhs = p.lhs === 'k' ? [...bd, M, K] : [...bd, K, M];
  const rhs = p.rhs === 'n' ? [...bd, K, N] : [...bd, N, K];
  const lc = p.lhs === 'k' ? nb + 1 : nb;
  const rc = p.rhs === 'n' ? nb : nb + 1;
  const [da, db, dr] = p.dtypes;
  const out = ty([...bd, M, N], dr);
  const batching = nb ? 'batching_dims = [0] x [0], ' : '';
  return `func.func public @main(%a: ${ty(lhs, da)}, %b: ${ty(rhs, db)}) -> ${out} {
  %d = stablehlo.dot_general %a, %b, ${batching}contracting_dims = [${lc}] x [${rc}] : (${ty(lhs, da)}, ${ty(rhs, db)}) -> ${out}
  return %d : ${out}
}`;
}

/** Random arguments of a module in storage layout: floats in [-1, 1), integers in [-4, 4]. */
function randomInputs(m: Module, seed: number): Uint8Array[] {
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  return m.funcs[0].args.map((a) => {
    const n = a.type.shape.reduce((x, y) => x * y, 1);
    const int = a.type.dtype === 'i32' || a.type.dtype === 'ui32' || a.type.dtype === 'i1';
    const data = Array.from({ length: n }, () => (int ? Math.floor(next() * 9) - (a.type.dtype === 'i32' ? 4 : 0) : next() * 2 - 1));
    return encodeStorage(a.type, data.map((x) => (a.type.dtype === 'ui32' ? Math.abs(x) : a.type.dtype === 'i1' ? x & 1 : x)));
  });
}

export interface TunerOptions {
  /** Default: `KILN_TUNE` (see {@link tuneModeFromEnv}). */
  mode?: TuneMode;
  /** Folder of the cache file (default {@link defaultCacheDir}); null keeps choices in memory only. */
  cacheDir?: string | null;
  /** For tests: the compiler version the keys carry (default COMPILER_VERSION). */
  compilerVersion?: string;
}

/**
 * The tuned tiles of one adapter: reads and writes its cache file, answers the compiler's hooks,
 * records the problems compiles asked about, and times candidates for the missing ones.
 */
export class TileTuner {
  readonly mode: TuneMode;
  /** The cache file, or undefined when choices stay in memory. */
  readonly path: string | undefined;
  /** Candidates timed (each a compile plus several runs) and hook answers served from the cache. */
  readonly stats = { timings: 0, hits: 0 };
  private readonly version: string;
  private entries = new Map<string, TuningEntry>();
  private asked = new Map<string, MatmulProblem>();

  constructor(readonly adapter: string, opts: TunerOptions = {}) {
    this.mode = opts.mode ?? tuneModeFromEnv();
    this.version = opts.compilerVersion ?? COMPILER_VERSION;
    const dir = opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir;
    this.path = dir === null ? undefined : cacheFile(dir, adapter);
    if (this.mode !== 'off') this.entries = this.load();
  }

  /** The entry key of `p` inside this adapter's file: compiler version and shape class. */
  private key(p: MatmulProblem): string {
    return `${this.version}|${shapeClass(p)}`;
  }

  /** Entries of the file for this adapter; an unreadable or malformed file yields none, with a warning. */
  private load(): Map<string, TuningEntry> {
    const out = new Map<string, TuningEntry>();
    if (!this.path) return out;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') warn(`kiln: cannot read the tuning cache ${this.path} (${(e as Error).message}); using the static tile table`);
      return out;
    }
    let doc: { format?: unknown; adapter?: unknown; entries?: unknown };
    try {
      doc = JSON.parse(text);
      if (!doc || typeof doc !== 'object' || typeof doc.entries !== 'object' || doc.entries === null) throw new Error('no entries object');
    } catch (e) {
      warn(`kiln: ignoring the corrupt tuning cache ${this.path} (${(e as Error).message}); it is rewritten on the next tuning`);
      return out;
    }
    // Another adapter whose description hashes alike, or an older layout: not ours.
    if (doc.format !== FORMAT || doc.adapter !== this.adapter) return out;
    for (const [k, v] of Object.entries(doc.entries as Record<string, unknown>)) {
      const e = v as Partial<TuningEntry> | null;
      const kernel = e?.kernel;
      const tile = kernel === 'tiled' || kernel === 'subgroup-matrix' ? known(kernel, e?.tile) : undefined;
      if (tile === undefined || !kernel) { warn(`kiln: tuning cache ${this.path}: ignoring the malformed entry '${k}'`); continue; }
      out.set(k, { kernel, tile, timedOn: String(e?.timedOn ?? ''), candidates: Array.isArray(e?.candidates) ? e.candidates : [] });
    }
    return out;
  }

  /** Merges this tuner's entries into the file (re-read first: another process may have added some), atomically. */
  private save(): void {
    if (!this.path) return;
    const merged = this.load();
    for (const [k, v] of this.entries) merged.set(k, v);
    const doc = { format: FORMAT, adapter: this.adapter, entries: Object.fromEntries([...merged].sort(([a], [b]) => (a < b ? -1 : 1))) };
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(doc, null, 1) + '\n');
      renameSync(tmp, this.path);
    } catch (e) {
      warn(`kiln: cannot write the tuning cache ${this.path} (${(e as Error).message}); tuned tiles last for this process only`);
    }
  }

  /** The cached choice for `p`, if any. */
  lookup(p: MatmulProblem): TuningEntry | undefined {
    return this.mode === 'off' ? undefined : this.entries.get(this.key(p));
  }

  /**
   * `base` with hooks answering from the cache; every problem the compiler asks about is
   * remembered for {@link takeAsked}.
   */
  target(base: Target): Target {
    if (this.mode === 'off') return base;
    const answer = (kernel: MatmulProblem['kernel']) => (p: MatmulProblem) => {
      if (p.kernel !== kernel) return undefined;
      this.asked.set(this.key(p), p);
      const e = this.lookup(p);
      if (e?.tile) this.stats.hits++;
      return e?.tile ?? undefined;
    };
    return { ...base, matmulTile: answer('tiled') as Target['matmulTile'], sgmmTile: answer('subgroup-matrix') as Target['sgmmTile'] };
  }

  /** The problems asked about since the last call, one per shape class. */
  takeAsked(): MatmulProblem[] {
    const out = [...this.asked.values()];
    this.asked.clear();
    return out;
  }

  /** Of `ps`, those without a cached choice. */
  missing(ps: readonly MatmulProblem[]): MatmulProblem[] {
    return ps.filter((p) => !this.lookup(p));
  }

  /**
   * Times the candidates of each problem (those cached are skipped unless `force`) and stores the
   * fastest. Candidates: the heuristic's choice first, then the kernel's other table tiles; tiles
   * that compile to the same WGSL as an earlier one (a tile the limits refuse falls back to the
   * heuristic) are timed once. `base` must be the device's own target, without hooks.
   */
  async tune(problems: readonly MatmulProblem[], base: Target, time: TimeProgram, force = false): Promise<TuneResult[]> {
    const results: TuneResult[] = [];
    const seen = new Set<string>();
    let changed = false;
    for (const p of problems) {
      const key = this.key(p);
      if (seen.has(key)) continue;
      seen.add(key);
      const hit = this.lookup(p);
      if (hit && !force) {
        results.push({ problem: p, key, entry: hit, chosen: Math.max(0, hit.candidates.findIndex((c) => sameTile(c.tile, hit.tile))), cached: true });
        continue;
      }
      const mod = parseModule(problemModule(p), `tune:${shapeClass(p)}`);
      const hook = p.kernel === 'tiled' ? 'matmulTile' : 'sgmmTile';
      const wgslOf = (prog: Program) => prog.kernels.map((k) => k.wgsl).join('\n');
      const heuristic = compile(mod, base);
      const byWgsl = new Map<string, { tile: AnyTile | null; program: Program; heuristic: boolean }>();
      byWgsl.set(wgslOf(heuristic), { tile: null, program: heuristic, heuristic: true });
      for (const t of table(p.kernel)) {
        const prog = compile(mod, { ...base, [hook]: () => t });
        const w = wgslOf(prog);
        const same = byWgsl.get(w);
        if (!same) byWgsl.set(w, { tile: t, program: prog, heuristic: false });
        else if (same.tile === null) same.tile = t; // the table entry the heuristic picked
      }
      const cands = [...byWgsl.values()];
      const inputs = randomInputs(mod, 1234);
      const best: (number | null)[] = cands.map(() => null);
      if (cands.length > 1) {
        // A large GPU idles at low clocks and takes a while to raise them: on an H200 the first
        // candidate timed cold looked 5x slower than it is. So warm up first (the result is thrown
        // away), then time the candidates in interleaved rounds and keep each one's best.
        await time(cands[0].program, inputs);
        for (let round = 0; round < TUNE_ROUNDS; round++) {
          for (const [i, c] of cands.entries()) {
            const ms = await time(c.program, inputs);
            this.stats.timings++;
            best[i] = Math.min(best[i] ?? Infinity, ms);
          }
        }
      }
      const candidates: CandidateTime[] = cands.map((c, i) => ({ tile: c.tile, ms: best[i], heuristic: c.heuristic }));
      let chosen = 0;
      candidates.forEach((c, i) => { if (c.ms !== null && c.ms < (candidates[chosen].ms ?? Infinity)) chosen = i; });
      const entry: TuningEntry = { kernel: p.kernel, tile: candidates[chosen].tile, timedOn: `${p.batch}x${p.m}x${p.n}x${p.k}`, candidates };
      this.entries.set(key, entry);
      changed = true;
      results.push({ problem: p, key, entry, chosen, cached: false });
    }
    if (changed) this.save();
    return results;
  }
}

/** Rounds of timing over all candidates; each candidate keeps its fastest round. */
export const TUNE_ROUNDS = 3;

/** The median of `xs` (not empty). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * GPU milliseconds per run of `program` (median of `reps`), from timestamp queries where the
 * device has them, else wall time per run. Runs are queued back to back, after at least
 * `warmupMs` of the same, so the GPU times the candidate at the clocks a busy program sees (with
 * idle gaps between runs a large GPU stays at low clocks, and the ranking can change). Runs the
 * executable directly, outside the device's run queue, so a tuning scheduled on that queue does
 * not wait on itself.
 */
export async function timeProgram(ctx: GpuContext, canTime: boolean, program: Program, inputs: Uint8Array[], reps = 7, warmupMs = 300): Promise<number> {
  const profiles: Promise<RunProfile>[] = [];
  let timing = false;
  const c: GpuContext = { ...ctx, profiling: () => timing, profiled: (p) => { profiles.push(p); } };
  const exe = new GpuExecutable('kiln-tune', program, [], [], c);
  const { device, pool } = ctx;
  ctx.flush(); // queued runs may still use the pool buffers written here
  const bufs = inputs.map((bytes) => {
    const b = pool.acquire(bytes.byteLength, STORAGE_USAGE, 'tune');
    device.queue.writeBuffer(b, 0, bytes);
    return b;
  });
  // run() returns once the work is submitted; outputs go back to the pool at once (queue order
  // keeps the next run's writes after this one's).
  const submit = async () => {
    for (const o of await exe.run(bufs)) pool.release(o);
  };
  try {
    await exe.ready;
    const until = performance.now() + warmupMs;
    let n = 0;
    do {
      await submit();
      // A few runs in flight at a time: the queue stays busy without growing without bound.
      if (++n % 4 === 0) { ctx.flush(); await device.queue.onSubmittedWorkDone(); }
    } while (performance.now() < until);
    ctx.flush();
    await device.queue.onSubmittedWorkDone();
    timing = canTime;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await submit();
    ctx.flush();
    await device.queue.onSubmittedWorkDone();
    const wallMs = (performance.now() - t0) / reps;
    if (!canTime) return wallMs;
    const ps = await Promise.all(profiles);
    return median(ps.map((p) => p.busyMs));
  } finally {
    exe.destroy();
    for (const b of bufs) pool.release(b);
  }
}
