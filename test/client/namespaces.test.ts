/**
 * @file kiln's namespaces against jax-js's (the installed `@jax-js/jax` devDependency): every name
 * jax-js exports in numpy, numpy.fft, nn, random and lax must exist in kiln, except the short list
 * below, each with its reason; the same for np.linalg and lax.linalg. An excluded name that kiln
 * gains must leave the list.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../client/index.js';

const EXCLUDED: Record<string, Record<string, string>> = {
  numpy: {
    Array: "kiln's Array class is exported at the top level (import { Array } from 'kiln')",
    DType: "kiln's dtype type is exported at the top level (DType)",
    float64: 'kiln computes in 32-bit floats (JAX with x64 off): f64 is refused, not aliased',
  },
  nn: {},
  random: {},
  lax: {},
  fft: {},
};
/** Names of jax-js's np.linalg and lax.linalg kiln does not have (none now; the check stays). */
const LINALG_EXCLUDED: Record<string, Record<string, string>> = {
  'numpy.linalg': {},
  'lax.linalg': {},
};
async function jaxjs(): Promise<Record<string, Record<string, unknown>>> {
  return (await import('@jax-js/jax')) as unknown as Record<string, Record<string, unknown>>;
}

describe('namespaces cover jax-js', () => {
  for (const ns of ['numpy', 'nn', 'random', 'lax', 'fft']) {
    it(`${ns}: every jax-js name exists, except the listed ones`, async () => {
      const j = await jaxjs();
      const k = kiln as unknown as Record<string, Record<string, unknown>>;
      // jax-js's fft is numpy.fft, as JAX's jax.numpy.fft; kiln's is np.fft.
      const theirs = Object.keys(ns === 'fft' ? (j.numpy.fft as Record<string, unknown>) : j[ns]);
      const ours = ns === 'fft' ? (k.np.fft as unknown as Record<string, unknown>) : k[ns === 'numpy' ? 'np' : ns];
      const missing = theirs.filter((k) => !(k in ours) && !(k in EXCLUDED[ns]));
      expect(missing, `${ns} lacks these jax-js names`).toEqual([]);
      // An excluded name that kiln now has must leave the list.
      expect(Object.keys(EXCLUDED[ns]).filter((k) => k in ours)).toEqual([]);
    });
  }

  for (const [path, excluded] of Object.entries(LINALG_EXCLUDED)) {
    it(`${path}: every jax-js name exists, except the listed ones`, async () => {
      const [ns] = path.split('.');
      const theirs = Object.keys((await jaxjs())[ns].linalg as Record<string, unknown>);
      const ours = (kiln as unknown as Record<string, Record<string, Record<string, unknown>>>)[ns === 'numpy' ? 'np' : ns].linalg;
      expect(theirs.filter((k) => !(k in ours) && !(k in excluded)), `${path} lacks these jax-js names`).toEqual([]);
      expect(Object.keys(excluded).filter((k) => k in ours)).toEqual([]);
    });
  }
});

describe('namespaces hold only the public API', () => {
  /** Internal helpers that once leaked into the public namespaces, and the shapes such names take. */
  const INTERNAL = /Impl$|^_|^(dtypeOf|reduceOp|threefry2x32|NEEDS_SIZE)$|^[A-Z][A-Z0-9_]+$/;
  const k = kiln as unknown as Record<string, Record<string, unknown>>;
  const spaces: [string, Record<string, unknown>][] = [
    ['np', k.np], ['nn', k.nn], ['random', k.random], ['lax', k.lax],
    ['np.linalg', k.np.linalg as Record<string, unknown>], ['np.fft', k.np.fft as Record<string, unknown>],
    ['lax.linalg', k.lax.linalg as Record<string, unknown>],
  ];
  for (const [name, ns] of spaces) {
    it(`${name} exports no internal helper`, () => {
      expect(Object.keys(ns).filter((n) => INTERNAL.test(n))).toEqual([]);
    });
  }
});
