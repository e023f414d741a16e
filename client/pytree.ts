/**
 * @file Pytrees: the nested JS arrays and plain objects of Arrays that `jit`, `grad` and `vmap`
 * take and return. Flattening gives the dynamic leaves (Arrays, and numbers where the caller says
 * numbers are data) plus a {@link TreeDef} that records the structure and every static leaf; its
 * `key` is a string, so two calls with equal keys and equal leaf types share one compiled program.
 */
import { InputError } from '../ir/errors.js';
import { KArray, TYPED_ARRAYS } from './array.js';

/** The structure of a pytree with its static leaves (strings, booleans, null, static numbers). */
export type TreeDef =
  | { kind: 'leaf' }
  | { kind: 'static'; value: unknown }
  | { kind: 'list'; children: TreeDef[] }
  | { kind: 'dict'; keys: string[]; children: TreeDef[] };

export interface Flat {
  /** Dynamic leaves in depth-first order (object keys sorted, as JAX sorts dict keys). */
  leaves: (KArray | number)[];
  def: TreeDef;
  /** A string equal for equal structures and static leaves. */
  key: string;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * Flattens `tree`. Arrays are always leaves, and so are typed arrays (as 1-D Arrays of their
 * values, the way jax.jit takes NumPy arrays); numbers are leaves when `numbersAreLeaves`, else
 * static. Anything else that is not a JS array or plain object is static and must be printable
 * in a key (functions and class instances are refused: they cannot be compared across calls).
 */
export function flatten(tree: unknown, numbersAreLeaves: boolean): Flat {
  const leaves: (KArray | number)[] = [];
  const parts: string[] = [];
  const walk = (x: unknown): TreeDef => {
    if (x instanceof KArray) {
      leaves.push(x);
      parts.push('*');
      return { kind: 'leaf' };
    }
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
      const a = KArray.fromTyped(x);
      if (!a) throw new InputError(`kiln: a ${x.constructor.name} cannot be an argument (kiln takes ${TYPED_ARRAYS})`);
      leaves.push(a);
      parts.push('*');
      return { kind: 'leaf' };
    }
    if (typeof x === 'number' && numbersAreLeaves) {
      leaves.push(x);
      parts.push('#');
      return { kind: 'leaf' };
    }
    if (globalThis.Array.isArray(x)) {
      parts.push('[');
      const children = x.map(walk);
      parts.push(']');
      return { kind: 'list', children };
    }
    if (isPlainObject(x)) {
      const keys = Object.keys(x).sort();
      parts.push('{');
      const children = keys.map((k) => {
        parts.push(JSON.stringify(k), ':');
        return walk(x[k]);
      });
      parts.push('}');
      return { kind: 'dict', keys, children };
    }
    if (x === undefined || x === null || typeof x === 'string' || typeof x === 'boolean' || typeof x === 'number' || typeof x === 'bigint') {
      parts.push(typeof x === 'string' ? JSON.stringify(x) : String(x), ',');
      return { kind: 'static', value: x };
    }
    throw new InputError(`kiln: cannot use a ${typeof x === 'function' ? 'function' : (x as object).constructor?.name ?? typeof x} as an argument here; pass arrays, numbers, or nested arrays and plain objects of them`);
  };
  const def = walk(tree);
  return { leaves, def, key: parts.join('') };
}

/** Rebuilds a tree of `def`'s structure with `leaves` in place of its dynamic leaves. */
export function unflatten<T = unknown>(def: TreeDef, leaves: readonly unknown[]): T {
  let i = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case 'leaf': return leaves[i++];
      case 'static': return d.value;
      case 'list': return d.children.map(build);
      case 'dict': {
        const o: Record<string, unknown> = {};
        d.keys.forEach((k, j) => { o[k] = build(d.children[j]); });
        return o;
      }
      default: return d satisfies never;
    }
  };
  const out = build(def);
  if (i !== leaves.length) throw new Error(`unflatten: tree has ${i} leaves, got ${leaves.length}`);
  return out as T;
}

/** The number of dynamic leaves of `def`. */
export function leafCount(def: TreeDef): number {
  switch (def.kind) {
    case 'leaf': return 1;
    case 'static': return 0;
    case 'list': case 'dict': return def.children.reduce((n, c) => n + leafCount(c), 0);
    default: return def satisfies never;
  }
}

/** Applies `f` to every Array leaf of `tree` (numbers are leaves too), keeping the structure. */
export function treeMap<T>(tree: T, f: (leaf: KArray | number) => unknown): T {
  const { leaves, def } = flatten(tree, true);
  return unflatten<T>(def, leaves.map(f));
}
