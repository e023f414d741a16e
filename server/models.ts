/**
 * @file A session's registered models (`/models`): a compiled module whose leading or chosen
 * arguments are bound to weights held on the device, so that `infer` sends only the remaining
 * inputs. The store owns the weights' device memory and counts it against the server's limits and
 * the session's quota, as buffers are. (Building a model from a request is server/register.ts.)
 */
import type { TensorType } from '../ir/types.js';
import type { Device, DeviceArray } from '../runtime/device.js';
import { describeValue } from '../runtime/wire.js';
import { HttpError, MAX_ID_LENGTH } from './errors.js';
import type { Usage } from './state.js';

/** One argument of a model's module bound to a weight it holds. */
export interface BoundWeight {
  /** The argument's position in the module's `main`. */
  arg: number;
  /** Where it came from: the safetensors tensor's name, or the buffer handle it took over. */
  from: { tensor: string } | { buffer: string };
  array: DeviceArray;
  bytes: number;
}

export interface Model {
  name: string;
  /** The executable's id (graph hash) in the server's cache. */
  executable: string;
  /** Its canonical IR: compiled again through the cache if the cache evicted it. */
  ir: string;
  /** Every argument of the module, bound or not, and its results. */
  args: readonly TensorType[];
  outputs: readonly TensorType[];
  /** Bound arguments, by position. */
  weights: readonly BoundWeight[];
  /** Bytes of its weights. */
  bytes: number;
  createdAt: number;
  runs: number;
  /** Total wall time of its runs (inputs in, outputs out), ms. */
  totalMs: number;
  /** Runs queued or running: a model deleted meanwhile frees its weights after the last. */
  pending: number;
  deleted: boolean;
}

/** The arguments `infer` must send: every argument no weight binds, in order. */
export function remainingArgs(m: Model): number[] {
  const bound = new Set(m.weights.map((w) => w.arg));
  return m.args.map((_, i) => i).filter((i) => !bound.has(i));
}

/** Models by name, one session's. */
export class ModelStore {
  private readonly models = new Map<string, Model>();

  constructor(
    private readonly device: Device,
    /** The session's quota of models (`limits.sessionModels`). */
    private readonly maxModels: number,
    /** The server's limits and the session's quota, which weights count against. */
    readonly usages: readonly Usage[],
    /** `session <id>`, in messages. */
    private readonly owner: string,
  ) {}

  /** Refuses a bad or taken name, and a model past the session's quota, before anything is built. */
  checkNew(name: string): void {
    if (name.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_.:-]+$/.test(name)) {
      throw new HttpError('KILN_ERR_BAD_REQUEST', `model name ${describeValue(name)}: use 1-${MAX_ID_LENGTH} letters, digits, '_', '.', ':' or '-'`);
    }
    if (this.models.has(name)) throw new HttpError('KILN_ERR_CONFLICT', `model '${name}' is already registered; DELETE /models/${name} first`);
    if (this.models.size >= this.maxModels) {
      throw new HttpError('KILN_ERR_QUOTA', `${this.owner} has ${this.models.size} models, its quota (sessionModels); delete one first`);
    }
  }

  /** Adds a built model, whose weights' bytes were checked against `usages` by the builder. */
  add(m: Model): void {
    this.checkNew(m.name);
    this.models.set(m.name, m);
    for (const u of this.usages) u.add(m.bytes, m.weights.length);
  }

  get(name: string): Model {
    const m = this.models.get(name);
    if (!m) throw new HttpError('KILN_ERR_NOT_FOUND', `no model ${describeValue(name)} in this session (GET /models lists them)`);
    return m;
  }

  /** Forgets a model; its weights are freed now, or after its runs in flight. False if there is none. */
  delete(name: string): boolean {
    const m = this.models.get(name);
    if (!m) return false;
    this.models.delete(name);
    m.deleted = true;
    for (const u of this.usages) u.remove(m.bytes, m.weights.length);
    if (m.pending === 0) this.freeWeights(m);
    return true;
  }

  /** Marks a run of `m` started; {@link end} must follow. */
  begin(m: Model): void {
    m.pending++;
  }

  /** A run of `m` ended (`ms` when it succeeded); frees the weights of a model deleted meanwhile. */
  end(m: Model, ms?: number): void {
    m.pending--;
    if (ms !== undefined) {
      m.runs++;
      m.totalMs += ms;
    }
    if (m.deleted && m.pending === 0) this.freeWeights(m);
  }

  /** Deletes every model (the session ended); returns how many. */
  clear(): number {
    const n = this.models.size;
    for (const name of [...this.models.keys()]) this.delete(name);
    return n;
  }

  list(): Model[] {
    return [...this.models.values()];
  }

  get size(): number {
    return this.models.size;
  }

  private freeWeights(m: Model): void {
    for (const w of m.weights) this.device.free(w.array);
  }
}
