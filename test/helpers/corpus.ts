/**
 * @file The shared StableHLO conformance corpus (../shared/stablehlo-corpus): listing the cases,
 * loading their inputs and expected outputs, and comparing results with the corpus tolerances.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromJson, type HostTensor, type JsonTensor } from '../../runtime/tensor.js';

/** Where the corpus lives: KILN_CORPUS, else `../shared/stablehlo-corpus` beside the checkout. */
export const CORPUS_DIR = process.env.KILN_CORPUS ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/stablehlo-corpus');

export interface CorpusCase {
  name: string;
  text: string;
  file: string;
  inputs: HostTensor[];
  outputs: HostTensor[];
}

export function corpusNames(): string[] {
  if (!existsSync(CORPUS_DIR)) throw new Error(`corpus not found at ${CORPUS_DIR} (set KILN_CORPUS)`);
  return readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.mlir')).map((f) => f.slice(0, -5)).sort();
}

export function loadCase(name: string): CorpusCase {
  const file = join(CORPUS_DIR, `${name}.mlir`);
  const doc = JSON.parse(readFileSync(join(CORPUS_DIR, `${name}.json`), 'utf8')) as { inputs: JsonTensor[]; outputs: JsonTensor[] };
  return {
    name, file, text: readFileSync(file, 'utf8'),
    inputs: doc.inputs.map((t) => fromJson(t)),
    outputs: doc.outputs.map((t) => fromJson(t)),
  };
}

/**
 * Describes the first element (c64: part, re then im) where `got` differs from `want` beyond |g-w| <= atol + rtol*|w|
 * (exact for integers and booleans; NaN matches NaN), or returns undefined when they agree.
 */
export function mismatch(got: HostTensor, want: HostTensor, rtol = 1e-4, atol = 1e-5): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, want ${want.dtype}`;
  if (got.shape.join() !== want.shape.join()) return `shape [${got.shape}], want [${want.shape}]`;
  // c64 data is interleaved (re, im): each part compared as an f32.
  const exact = want.dtype !== 'f32' && want.dtype !== 'f16' && want.dtype !== 'c64';
  for (let i = 0; i < want.data.length; i++) {
    const [gb, wb] = [got.data[i], want.data[i]];
    if (typeof gb === 'bigint' || typeof wb === 'bigint') {
      if (gb !== wb) return `element ${i}: got ${gb}, want ${wb}`;
      continue;
    }
    const [g, w] = [gb, wb];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    const ok = exact ? g === w : (g === w || Math.abs(g - w) <= atol + rtol * Math.abs(w));
    if (!ok) return `element ${i}: got ${g}, want ${w}`;
  }
  return undefined;
}

/** Programs whose outputs go through transcendental functions, compared at rtol 1e-3 on a GPU. */
export const TRANSCENDENTAL = new Set(['elementwise_chain', 'gelu', 'softmax', 'layernorm', 'fori_loop', 'mlp_grad', 'debug_locs_mlp']);

/**
 * A JAX program of a fixture folder (`NAME.mlir`, or its GPU lowering `NAME.gpu.mlir`) with the
 * inputs and outputs of `NAME.json`, in the corpus format.
 */
export function loadProgram(dir: string, file: string): { text: string; inputs: HostTensor[]; outputs: HostTensor[] } {
  const name = file.replace(/(\.gpu)?\.mlir$/, '');
  const c = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { inputs: JsonTensor[]; outputs: JsonTensor[] };
  return { text: readFileSync(join(dir, file), 'utf8'), inputs: c.inputs.map((t) => fromJson(t)), outputs: c.outputs.map((t) => fromJson(t)) };
}
