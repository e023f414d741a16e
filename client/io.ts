/**
 * @file Weights in and out: `load` reads `.safetensors` (HuggingFace), `.npz` and `.npy` (NumPy)
 * into Arrays, `save` writes a pytree of Arrays. Pytree paths become dotted names
 * (`{layers: [{w}]}` ↔ `layers.0.w`), the convention of HuggingFace checkpoints and flax's
 * `flatten_dict(sep='.')`.
 *
 * ```ts
 * await save('mlp.safetensors', params);
 * const restored = await load('mlp.safetensors', { nested: true }); // same structure as params
 * ```
 */
import { InputError } from '../ir/errors.js';
import { readWeights, writeWeights } from '../runtime/formats/index.js';
import type { HostTensor } from '../runtime/tensor.js';
import { KArray } from './array.js';

/** Options of {@link load}. */
export interface LoadOptions {
  /** `safetensors`, `npz` or `npy`; by default the file's ending (required for bytes). */
  format?: string;
  /** Rebuild nested objects and lists from dotted names (`a.0.b`) instead of a flat record. */
  nested?: boolean;
  /** Where the notice of narrowing conversions (f64 → f32, i64 → i32) goes; default console.warn. */
  onNotice?: (message: string) => void;
}

/**
 * Reads a weight file (or its bytes) into Arrays keyed by name, in file order; a `.npy` gives one
 * Array under `array`. Types kiln does not compute in are converted: bf16 and small integers
 * exactly, f64 and i64 (only when every value fits) with a notice, as JAX does with x64 off.
 */
export async function load(source: string | Uint8Array, opts: LoadOptions = {}): Promise<Record<string, unknown>> {
  const w = await readWeights(source, opts.format);
  const where = typeof source === 'string' ? source : 'load';
  for (const n of w.notes) (opts.onNotice ?? console.warn)(`kiln: ${where}: ${n}`);
  const flat: Record<string, KArray> = {};
  for (const [name, t] of w.arrays) flat[name] = KArray.fromHost(t);
  return opts.nested ? nest(flat) : flat;
}

/** Options of {@link save}. */
export interface SaveOptions {
  format?: string;
  /** safetensors `__metadata__` (string to string). */
  metadata?: Record<string, string>;
}

/** Writes a pytree of Arrays (waiting for any still being computed) to a weight file. */
export async function save(path: string, tree: unknown, opts: SaveOptions = {}): Promise<void> {
  const named = namedLeaves(tree);
  if (named.length === 0) throw new InputError(`save: ${path}: the tree holds no Arrays`);
  const arrays: [string, HostTensor][] = [];
  for (const [name, a] of named) arrays.push([name, await a.host()]);
  await writeWeights(path, arrays, opts);
}

/** The Array leaves of a tree with their dotted paths; a lone Array is named `array`. */
function namedLeaves(tree: unknown): [string, KArray][] {
  const out: [string, KArray][] = [];
  const walk = (x: unknown, path: string[]): void => {
    if (x instanceof KArray) {
      if (path.some((p) => p.includes('.'))) throw new InputError(`save: key '${path.find((p) => p.includes('.'))}' contains '.', which separates names in the file`);
      out.push([path.length ? path.join('.') : 'array', x]);
    } else if (Array.isArray(x)) {
      x.forEach((v, i) => walk(v, [...path, String(i)]));
    } else if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      for (const [k, v] of Object.entries(x)) walk(v, [...path, k]);
    } else {
      throw new InputError(`save: ${path.join('.') || 'the tree'} is ${x === null ? 'null' : typeof x}; a tree to save holds Arrays in plain objects and lists`);
    }
  };
  walk(tree, []);
  return out;
}

/** Dotted names to nested objects; a level whose keys are exactly 0..n-1 becomes a list. */
function nest(flat: Record<string, KArray>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(flat)) {
    const parts = name.split('.');
    let node = root;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) {
        if (p in node) throw new InputError(`load: '${name}' clashes with another name when nested`);
        node[p] = a;
      } else {
        const next = node[p];
        if (next instanceof KArray) throw new InputError(`load: '${name}' clashes with the array '${parts.slice(0, i + 1).join('.')}' when nested`);
        node = (node[p] ??= {}) as Record<string, unknown>;
      }
    });
  }
  const lists = (x: unknown): unknown => {
    if (x instanceof KArray || x === null || typeof x !== 'object') return x;
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o);
    const fixed = Object.fromEntries(keys.map((k) => [k, lists(o[k])]));
    const isList = keys.length > 0 && keys.every((k) => /^\d+$/.test(k)) && keys.map(Number).sort((p, q) => p - q).every((k, i) => k === i);
    return isList ? keys.map(Number).sort((p, q) => p - q).map((k) => fixed[String(k)]) : fixed;
  };
  return lists(root) as Record<string, unknown>;
}
