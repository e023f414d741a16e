/**
 * @file Every exported library function has a JAX fixture case (issue 12). Walks the namespaces of
 * client/index.js (np, np.linalg, np.fft, nn, nn.initializers, random, lax, lax.linalg, and fft
 * where it is exported: functions only, one level into namespace objects) and fails on any function
 * with no case in test/fixtures/jax/library.json (scripts/jax/gen_library.py) or
 * test/fixtures/jax/core.json (scripts/jax/gen_core.py, the core np.* names), unless EXCLUDED says
 * why or ALIASES maps it to the same function object under a covered name. A case covers
 * `<namespace>.<name>` when its key is that or `<namespace>.<name>:<variant>`; `np.linalg.X` and
 * `np.fft.X` are also covered by `linalg.X` / `fft.X`. Gradient cases (`grad.*`, `jvp.*`) cover
 * nothing: they test a transform of the function, not the function.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../client/index.js';
import { loadFixture } from '../helpers/jax-fixtures.js';

const LIBRARY = 'test/fixtures/jax/library.json';
const CORE = 'test/fixtures/jax/core.json';

/** The namespaces walked; every object exported by client/index.js must be one of them (or an alias of one). */
const NAMESPACES = ['np', 'nn', 'random', 'lax', 'fft'] as const;
/** Exported objects that are another export under a second name. */
const NAMESPACE_ALIASES: Record<string, string> = { numpy: 'np' };
/** Exported objects that are not function namespaces, and what they are. */
const NOT_NAMESPACES: Record<string, string> = { stats: "kiln's trace/compile/execution counters (numbers), not functions" };

/** Functions with no case of their own, and why that is enough. */
const EXCLUDED: Record<string, string> = {
  'np.at': 'the functional index-update builder x.at(...) returns an updater, not an array: covered by the np.at.* cases (library-index.test.ts)',
};

/** Second names of covered functions: name -> the covered name; each must be the same function object. */
const ALIASES: Record<string, string> = {};

type Namespace = Record<string, unknown>;

/** `ns.name` of every function in `root`'s namespaces, one level into namespace objects (np.linalg, lax.linalg, ...). */
export function exportedFunctions(root: Record<string, unknown>, namespaces: readonly string[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (prefix: string, o: Namespace, depth: number) => {
    for (const k of Object.keys(o).sort()) {
      const v = o[k];
      if (typeof v === 'function') out.set(`${prefix}.${k}`, v);
      else if (depth === 0 && v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof kiln.Array)) walk(`${prefix}.${k}`, v as Namespace, 1);
    }
  };
  for (const ns of namespaces) if (root[ns] !== undefined) walk(ns, root[ns] as Namespace, 0);
  return out;
}

/** The fixture keys that would cover `name`. */
function coveringNames(name: string): string[] {
  const alt = name.replace(/^np\.(linalg|fft)\./, '$1.');
  return alt === name ? [name] : [name, alt];
}

/**
 * The functions of `fns` no case of `caseKeys` covers and neither EXCLUDED nor ALIASES accounts
 * for; and the ALIASES entries that are wrong (not the same function object as a covered name).
 */
export function uncovered(fns: Map<string, unknown>, caseKeys: Iterable<string>, excluded: Record<string, string>, aliases: Record<string, string>):
  { missing: string[]; badAliases: string[] } {
  const keys = new Set([...caseKeys].map((k) => k.replace(/:.*$/, '')));
  const covered = (n: string) => coveringNames(n).some((c) => keys.has(c));
  const badAliases = Object.entries(aliases).filter(([n, to]) => !fns.has(n) || fns.get(n) !== fns.get(to) || !covered(to)).map(([n, to]) => `${n} -> ${to}`);
  const missing = [...fns.keys()].filter((n) => !covered(n) && !(n in excluded) && !(n in aliases));
  return { missing, badAliases };
}

describe('fixture coverage: every exported library function has a JAX case', () => {
  const fns = exportedFunctions(kiln as unknown as Record<string, unknown>, NAMESPACES);
  const library = Object.keys(loadFixture(LIBRARY).cases);
  const hasCore = existsSync(CORE);
  const core = hasCore ? Object.keys(loadFixture(CORE).cases) : [];

  it('the walk finds the namespaces and their sub-namespaces', () => {
    for (const n of ['np.sum', 'np.linalg.cholesky', 'np.fft.fft', 'nn.relu', 'nn.initializers.glorotNormal', 'random.normal', 'lax.scan', 'lax.linalg.qr']) {
      expect(fns.has(n), n).toBe(true);
    }
    expect(fns.size).toBeGreaterThan(400);
  });

  it('every object client/index.js exports is a namespace walked here', () => {
    const objects = Object.entries(kiln).filter(([, v]) => v !== null && typeof v === 'object').map(([k]) => k);
    const unknown = objects.filter((k) => !(NAMESPACES as readonly string[]).includes(k) && !(k in NAMESPACE_ALIASES) && !(k in NOT_NAMESPACES));
    expect(unknown, 'a new namespace: add it to NAMESPACES so its functions need fixture cases').toEqual([]);
    for (const [a, to] of Object.entries(NAMESPACE_ALIASES)) expect((kiln as Record<string, unknown>)[a], a).toBe((kiln as Record<string, unknown>)[to]);
    for (const n of Object.keys(NOT_NAMESPACES)) {
      expect(Object.values((kiln as Record<string, unknown>)[n] as object).every((v) => typeof v !== 'function'), `${n} holds functions`).toBe(true);
    }
  });

  it('every exported function has a case in library.json or core.json, or is excluded with a reason', () => {
    const { missing, badAliases } = uncovered(fns, [...library, ...core], EXCLUDED, ALIASES);
    const note = hasCore ? '' : `\n(${CORE} is not here yet: scripts/jax/gen_core.py writes it; these names need its cases)`;
    expect(missing, `functions with no JAX fixture case:${note}\n${missing.join(' ')}`).toEqual([]);
    expect(badAliases, 'ALIASES entries that are not the same function as a covered name').toEqual([]);
  });

  it('every exclusion names an exported function and gives a reason', () => {
    for (const [n, why] of Object.entries(EXCLUDED)) {
      expect(fns.has(n), `${n} is not exported: drop it from EXCLUDED`).toBe(true);
      expect(why.length, n).toBeGreaterThan(20);
    }
  });
});

describe('fixture coverage: the check itself', () => {
  const f = () => 0, g = () => 1;
  const fake = { np: { sum: f, total: f, fooBar: g, linalg: { cholesky: f, norm: g } }, nn: { initializers: { ones: f } } };
  const fns = exportedFunctions(fake, ['np', 'nn', 'random']);
  const keys = ['np.sum:axis', 'linalg.cholesky', 'grad.np.fooBar', 'nn.initializers.ones'];

  it('an exported function with no case is reported; variants, linalg.X and exclusions cover', () => {
    expect([...fns.keys()]).toEqual(['np.fooBar', 'np.linalg.cholesky', 'np.linalg.norm', 'np.sum', 'np.total', 'nn.initializers.ones']);
    expect(uncovered(fns, keys, {}, {}).missing).toEqual(['np.fooBar', 'np.linalg.norm', 'np.total']);
    expect(uncovered(fns, keys, { 'np.fooBar': 'a reason' }, {}).missing).toEqual(['np.linalg.norm', 'np.total']);
  });

  it('an alias must be the same function object as a covered name', () => {
    expect(uncovered(fns, keys, { 'np.fooBar': 'r', 'np.linalg.norm': 'r' }, { 'np.total': 'np.sum' })).toEqual({ missing: [], badAliases: [] });
    expect(uncovered(fns, keys, {}, { 'np.fooBar': 'np.sum' }).badAliases).toEqual(['np.fooBar -> np.sum']);
    // The same object, but its target has no case either.
    expect(uncovered(fns, ['np.fooBar'], {}, { 'np.total': 'np.sum' }).badAliases).toEqual(['np.total -> np.sum']);
  });
});
