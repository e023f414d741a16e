/**
 * @file The single-op table (`GET /ops`, `POST /ops/:name`): every function of the client's
 * `numpy`, `nn` and `lax` namespaces (and their `linalg`/`fft` sub-namespaces) that was defined
 * with a signature (client/args.ts `defapi`), so its arguments are bound and checked by name. A
 * call is traced here, on the server, into StableHLO: the sent tensors bind the leading positional
 * parameters in order, the JSON keyword arguments the rest. The traced text is kept by name and
 * signature (input types and keyword arguments), and compiled through the executable cache, so a
 * repeated call neither traces nor compiles again.
 */
import { KilnError } from '../ir/errors.js';
import type { TensorType } from '../ir/types.js';
import { printModule } from '../ir/print.js';
import { isPlainObject, signatureOf, type Signature } from '../client/args.js';
import { lax, nn, numpy } from '../client/index.js';
import { TraceError } from '../client/site.js';
import { avalKey, traceFlat, type AbstractValue } from '../client/trace.js';
import { describeValue } from '../runtime/wire.js';
import { HttpError } from './errors.js';

/** One function `POST /ops/:name` runs. */
export interface OpEntry {
  /** `np.matmul`, `nn.relu`, `lax.dotGeneral`, `np.linalg.solve`. */
  name: string;
  namespace: 'numpy' | 'nn' | 'lax';
  fn: (...args: unknown[]) => unknown;
  sig: Signature;
}

/** What `GET /ops` says of one function. */
export interface OpDescription {
  name: string;
  namespace: OpEntry['namespace'];
  /** How many parameters may be given positionally (the sent tensors bind the leading ones). */
  arity: number;
  params: { name: string; accepts: string; required: boolean; keywordOnly: boolean; array: boolean; default?: unknown }[];
}

/** A call traced: its module's text and whether its result was one Array (not a list or a tree). */
export interface TracedOp {
  ir: string;
  single: boolean;
  /** The executable's id once the cache compiled it. */
  id?: string;
}

const NAMESPACES = [['np', 'numpy', numpy], ['nn', 'nn', nn], ['lax', 'lax', lax]] as const;

/** Most traced signatures kept (least recently used dropped first). */
const MAX_TRACED = 1024;

function collect(): Map<string, OpEntry> {
  const table = new Map<string, OpEntry>();
  const walk = (prefix: string, namespace: OpEntry['namespace'], ns: object, depth: number) => {
    for (const [key, v] of Object.entries(ns).sort(([a], [b]) => a.localeCompare(b))) {
      const sig = signatureOf(v);
      if (sig) table.set(`${prefix}.${key}`, { name: `${prefix}.${key}`, namespace, fn: v as OpEntry['fn'], sig });
      // np.linalg, np.fft, lax.linalg (module namespaces: plain objects without a prototype chain of their own).
      else if (depth === 0 && v !== null && typeof v === 'object' && !Array.isArray(v) && key !== 'initializers') walk(`${prefix}.${key}`, namespace, v, 1);
    }
  };
  for (const [prefix, namespace, ns] of NAMESPACES) walk(prefix, namespace, ns, 0);
  return table;
}

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The functions `POST /ops/:name` runs, and the calls it has traced. */
export class OpTable {
  private readonly entries = collect();
  private readonly traced = new Map<string, TracedOp>();
  /** Calls traced (a repeated signature is not traced again). */
  traces = 0;

  list(): OpDescription[] {
    return [...this.entries.values()].map(({ name, namespace, sig }) => ({
      name,
      namespace,
      arity: sig.params.filter((q) => !q.keywordOnly).length,
      params: sig.params.map((q, i) => ({
        name: q.name, accepts: q.check.accepts, required: typeof q.default === 'symbol', keywordOnly: q.keywordOnly ?? false,
        array: sig.data.includes(i), ...(typeof q.default === 'symbol' ? {} : { default: q.default }),
      })),
    }));
  }

  /**
   * The function `name` names: `np.matmul` (or `numpy.matmul`), `nn.relu`, `lax.add`; a bare name
   * is looked up in numpy, then nn, then lax, as a JAX user reaches for `jnp` first.
   */
  resolve(name: string): OpEntry {
    const full = name.replace(/^numpy\./, 'np.');
    const e = this.entries.get(full) ?? (/^(np|nn|lax)\./.test(full) ? undefined : NAMESPACES.map(([p]) => this.entries.get(`${p}.${full}`)).find(Boolean));
    if (!e) {
      const near = [...this.entries.keys()].filter((k) => k.toLowerCase().endsWith(`.${full.toLowerCase().replace(/^.*\./, '')}`)).slice(0, 4);
      throw new HttpError('KILN_ERR_NOT_FOUND', `no op ${describeValue(name)}: POST /ops/:name runs the functions GET /ops lists (np.*, nn.*, lax.*)${near.length ? `; did you mean ${near.join(', ')}?` : ''}`);
    }
    return e;
  }

  /**
   * The StableHLO of `op` on inputs of these types with these keyword arguments, traced once per
   * signature. Refuses unknown keyword arguments (naming them and the function's parameters), and
   * turns the function's own argument errors into 400s naming it.
   */
  trace(op: OpEntry, inputs: readonly TensorType[], kwargsArg: unknown): TracedOp {
    if (kwargsArg !== undefined && kwargsArg !== null && !isPlainObject(kwargsArg)) {
      throw new HttpError('KILN_ERR_BAD_REQUEST', `${op.name}: 'kwargs' must be a map of keyword arguments, got ${describeValue(kwargsArg)}`);
    }
    const names = op.sig.params.map((q) => q.name);
    const kwargs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries((kwargsArg ?? {}) as Record<string, unknown>)) {
      const key = names.includes(k) ? k : camel(k);
      if (!names.includes(key)) {
        throw new HttpError('KILN_ERR_BAD_REQUEST', `${op.name}: unknown keyword argument '${k}'; its parameters are ${names.join(', ')}`);
      }
      if (key in kwargs) throw new HttpError('KILN_ERR_BAD_REQUEST', `${op.name}: keyword argument '${key}' is given twice (as '${k}' too)`);
      kwargs[key] = v;
    }
    const positional = op.sig.params.filter((q) => !q.keywordOnly);
    if (inputs.length > positional.length) {
      throw new HttpError('KILN_ERR_BAD_REQUEST', `${op.name} takes at most ${positional.length} positional argument${positional.length === 1 ? '' : 's'} (${positional.map((q) => q.name).join(', ')}), got ${inputs.length} tensors`);
    }
    inputs.forEach((_, i) => {
      if (positional[i].name in kwargs) throw new HttpError('KILN_ERR_BAD_REQUEST', `${op.name}: '${positional[i].name}' is given both as tensor ${i} and as a keyword argument`);
    });
    const avals: AbstractValue[] = inputs.map((t) => ({ dtype: t.dtype as AbstractValue['dtype'], shape: [...t.shape] }));
    const key = `${op.name}(${avals.map(avalKey).join(',')})${canonicalJson(kwargs)}`;
    const hit = this.traced.get(key);
    if (hit) {
      this.traced.delete(key);
      this.traced.set(key, hit);
      return hit;
    }
    const call = (...xs: unknown[]) => (Object.keys(kwargs).length ? op.fn(...xs, kwargs) : op.fn(...xs));
    let traced;
    try {
      traced = traceFlat(call as never, { kind: 'list', children: avals.map(() => ({ kind: 'leaf' as const })) }, avals, 'main', false);
    } catch (e) {
      // The detail without the call site (a line of this file, meaningless to the client) or repeated names.
      if (e instanceof TraceError) throw new HttpError('KILN_ERR_BAD_REQUEST', `${op.name}: ${e.detail.replace(/^([\w.]+: )+/, '')}`);
      if (e instanceof KilnError) throw e;
      throw new HttpError('KILN_ERR_BAD_REQUEST', `${op.name}: ${(e as Error).message}`);
    }
    if (traced.captured.length) throw new HttpError('KILN_ERR_INTERNAL', `${op.name} used ${traced.captured.length} arrays from outside its trace; it cannot run as a single op`);
    this.traces++;
    const entry: TracedOp = { ir: printModule(traced.module), single: traced.outDef.kind === 'leaf' };
    this.traced.set(key, entry);
    if (this.traced.size > MAX_TRACED) this.traced.delete(this.traced.keys().next().value!);
    return entry;
  }
}

/** JSON with object keys sorted, so that `{a, b}` and `{b, a}` are one signature. */
function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (isPlainObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
}
