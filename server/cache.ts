/**
 * @file The executable cache: programs by graph hash, an LRU in memory bounded by an estimate of
 * the real bytes each one holds, and content-addressed IR files under `--cache-dir`. Evicting or
 * deleting a program gives it back to the device (`Device.release`), which frees its GPU buffers and
 * pipelines; DELETE removes its file too. A file is trusted only when the hash of its canonical text
 * is its name: a different program saved under an id, or garbage, is deleted with a warning and
 * rebuilt from the request (never served, never an error naming the server's own file). Beside
 * the IR, the device's compiled programs are kept under `artifacts/` (server/artifacts.ts), so a
 * restarted server, or another one on the same directory, loads them instead of compiling.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashModule } from '../ir/hash.js';
import { parseModule } from '../ir/parse/parser.js';
import { printModule } from '../ir/print.js';
import { mainFunc, type Module, type TensorType } from '../ir/types.js';
import { verifyModule } from '../ir/verify.js';
import type { Device, Executable } from '../runtime/device.js';
import { HttpError } from './errors.js';
import { FileArtifactStore } from './artifacts.js';
import { Frontend } from './front.js';
import type { KernelTimes, ProfileReply } from './profile.js';
import type { Limits } from './state.js';

export interface CachedExecutable {
  id: string;
  exe: Executable;
  /** The canonical IR text. */
  ir: string;
  inputs: readonly TensorType[];
  outputs: readonly TensorType[];
  createdAt: number;
  runs: number;
  /** The last run times in ms (at most {@link TIMING_WINDOW}). */
  timings: number[];
  /** GPU times of its kernels in the last run that asked for them (`profile: true`). */
  kernelTimes?: KernelTimes;
  /** What it holds in memory, estimated by {@link estimateBytes}. */
  sizeBytes: number;
}

const TIMING_WINDOW = 1000;

/**
 * Bytes an executable holds, estimated: its planned device buffers, the IR and WGSL text (two bytes
 * a character in V8), the parsed module kept beside it (about 8 bytes of objects per character of
 * IR), and a fixed cost per kernel (pipeline, bind-group layouts, uniforms) and per program. The
 * fixed costs are what a tiny program really costs: counting only its planned bytes and IR text
 * said 231 bytes for a program that held ~220 KB.
 */
export function estimateBytes(exe: Executable, ir: string): number {
  const wgsl = (exe.kernelSources ?? []).reduce((n, k) => n + k.wgsl.length, 0);
  return exe.bytes + 2 * (ir.length + wgsl) + 8 * ir.length + KERNEL_BYTES * exe.kernels + PROGRAM_BYTES;
}
const KERNEL_BYTES = 16 << 10;
const PROGRAM_BYTES = 64 << 10;

const HASH_ID = /^[0-9a-f]{64}$/;

/** Executables by graph hash: an LRU in memory, the canonical IR on disk. */
export class ExecutableCache {
  private readonly entries = new Map<string, CachedExecutable>();
  /** Estimated bytes of the entries ({@link estimateBytes}). */
  bytes = 0;
  compiles = 0;
  hits = 0;
  /** Cache files found corrupt or holding another program, deleted and rebuilt. */
  rejectedFiles = 0;
  private readonly front: Frontend;
  /** Compiled programs under `cacheDir`/artifacts, when the device has a compiled form. */
  readonly artifacts: FileArtifactStore | undefined;

  constructor(
    private readonly device: Device,
    private readonly limits: Limits,
    private readonly cacheDir?: string,
  ) {
    if (cacheDir) mkdirSync(cacheDir, { recursive: true });
    if (cacheDir && device.useArtifacts) {
      this.artifacts = new FileArtifactStore(join(cacheDir, 'artifacts'));
      device.useArtifacts(this.artifacts);
    }
    this.front = new Frontend(limits);
  }

  /**
   * Parses, verifies and compiles IR text, or finds it cached: in memory, or on disk when the file
   * under its id holds exactly its canonical text (`cached: true` after a restart).
   */
  async compile(text: string, file = 'request.mlir'): Promise<{ entry: CachedExecutable; cached: boolean }> {
    if (text.length > this.limits.irBytes) {
      throw new HttpError('KILN_ERR_TOO_LARGE', `the IR text has ${text.length} characters; this server's limit is ${this.limits.irBytes} bytes`);
    }
    const { module: m, id, ir } = await this.front.run(text, file);
    const hit = this.entries.get(id);
    if (hit) {
      this.touch(id, hit);
      this.hits++;
      return { entry: hit, cached: true };
    }
    const onDisk = this.readFile(id);
    const known = onDisk === ir;
    if (onDisk !== undefined && !known) this.reject(id, 'holds another program than its name says');
    const entry = this.build(id, m, ir);
    if (known) this.hits++;
    else this.persist(id, ir);
    return { entry, cached: known };
  }

  /**
   * The executable with this id, compiled again from its file if it was evicted, when the file is
   * sound: the hash of its canonical text must be its id. A file that is not is deleted (warning).
   */
  get(id: string): CachedExecutable | undefined {
    const hit = this.entries.get(id);
    if (hit) {
      this.touch(id, hit);
      return hit;
    }
    if (!HASH_ID.test(id)) return undefined;
    const text = this.readFile(id);
    if (text === undefined) return undefined;
    let m: Module;
    try {
      m = parseModule(text, `${id}.mlir`, { maxTokens: this.limits.irTokens });
      verifyModule(m);
    } catch (e) {
      this.reject(id, `does not parse (${(e as Error).message})`);
      return undefined;
    }
    if (hashModule(m) !== id) {
      this.reject(id, `holds a program whose hash is ${hashModule(m)}`);
      return undefined;
    }
    return this.build(id, m, printModule(m));
  }

  /** Forgets a program in memory and on disk and gives it back to the device; false if it was in neither. */
  delete(id: string): boolean {
    const e = this.entries.get(id);
    if (e) this.drop(id, e);
    const path = HASH_ID.test(id) ? this.diskPath(id) : undefined;
    const onDisk = path !== undefined && existsSync(path);
    if (onDisk) unlinkSync(path);
    const compiled = HASH_ID.test(id) ? this.artifacts?.deleteProgram(id) ?? 0 : 0;
    return e !== undefined || onDisk || compiled > 0;
  }

  /** Stops the parse worker (server shutdown). */
  close(): void {
    this.front.close();
  }

  list(): CachedExecutable[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }

  recordRun(e: CachedExecutable, ms: number): void {
    e.runs++;
    e.timings.push(ms);
    if (e.timings.length > TIMING_WINDOW) e.timings.splice(0, e.timings.length - TIMING_WINDOW);
  }

  recordProfile(e: CachedExecutable, p: ProfileReply): void {
    e.kernelTimes = { at: Date.now(), ...p };
  }

  /** Compiles `m`, whose graph hash `id` is (the caller hashed it), and holds it under `id`. */
  private build(id: string, m: Module, ir: string): CachedExecutable {
    const exe = this.device.compile(m, id);
    this.compiles++;
    const f = mainFunc(m);
    const entry: CachedExecutable = {
      id, exe, ir, inputs: f.args.map((a) => a.type), outputs: f.resultTypes,
      createdAt: Date.now(), runs: 0, timings: [], sizeBytes: estimateBytes(exe, ir),
    };
    this.entries.set(id, entry);
    this.bytes += entry.sizeBytes;
    this.evict();
    return entry;
  }

  private touch(id: string, e: CachedExecutable): void {
    this.entries.delete(id);
    this.entries.set(id, e);
  }

  private drop(id: string, e: CachedExecutable): void {
    this.entries.delete(id);
    this.bytes -= e.sizeBytes;
    this.device.release?.(e.exe);
  }

  /** Least recently used first, down to the byte limit; the newest entry always stays. */
  private evict(): void {
    for (const [id, e] of this.entries) {
      if (this.bytes <= this.limits.cacheBytes || this.entries.size <= 1) break;
      this.drop(id, e);
    }
  }

  private diskPath(id: string): string | undefined {
    return this.cacheDir ? join(this.cacheDir, `${id}.mlir`) : undefined;
  }

  private readFile(id: string): string | undefined {
    const path = this.diskPath(id);
    if (!path || !existsSync(path)) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Deletes a cache file that cannot be trusted, with a warning naming it and why. */
  private reject(id: string, why: string): void {
    const path = this.diskPath(id)!;
    this.rejectedFiles++;
    try { unlinkSync(path); } catch { /* already gone */ }
    process.emitWarning(`kiln: cache file ${path} ${why}; deleted (it is rebuilt on the next compile of the program)`, 'KilnCacheWarning');
  }

  /** Writes to a temporary name, then renames: a crash never leaves half a file under an id. */
  private persist(id: string, ir: string): void {
    const path = this.diskPath(id);
    if (!path) return;
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, ir);
    renameSync(tmp, path);
  }
}
