/**
 * @file Tensors in the playground: the inputs typed as corpus JSON become wire tensors (raw
 * little-endian bytes, as /execute takes them) through kiln's own runtime/tensor.ts, outputs come
 * back the same way, and are shown as nested arrays and compared with the expected outputs using
 * the corpus tolerances.
 */
import { fromBytes, fromJson, toBytes, type HostTensor, type JsonTensor } from '../../../runtime/tensor.js';
import type { SupportedDType } from '../../../ir/dtype.js';

export interface WireTensor {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** Parses the inputs editor's text: a JSON array of `{dtype, shape, data}` (or `{inputs: [...]}`). */
export function parseInputs(text: string): HostTensor[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch (e) {
    throw new Error(`inputs are not valid JSON: ${(e as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { inputs?: unknown })?.inputs;
  if (!Array.isArray(list)) throw new Error('inputs: expected a JSON array of {dtype, shape, data}, or {"inputs": [...]}');
  return list.map((t, i) => fromJson(t as JsonTensor, `inputs[${i}]`));
}

export function toWire(t: HostTensor): WireTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: toBytes(t) };
}

export function fromWire(w: WireTensor, what: string): HostTensor {
  return fromBytes(w.dtype as SupportedDType, w.shape, w.data, what);
}

export function fromCorpus(t: JsonTensor, what: string): HostTensor {
  return fromJson(t, what);
}

/** Zero inputs of the given types, as the inputs editor's JSON (for programs without examples). */
export function zeroInputs(types: readonly { dtype: string; shape: readonly number[] }[]): string {
  const items = types.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    return `  {"dtype": "${t.dtype}", "shape": [${t.shape.join(', ')}], "data": [${new Array(n).fill(0).join(', ')}]}`;
  });
  return `[\n${items.join(',\n')}\n]\n`;
}

/**
 * The corpus JSON of the inputs, for the editor: one tensor a line when small, else its data in
 * rows of the last dimension (at most 8 values a row, as full-precision floats are long).
 */
export function inputsText(ts: readonly JsonTensor[]): string {
  const items = ts.map((t) => {
    const head = `  {"dtype": ${JSON.stringify(t.dtype)}, "shape": ${JSON.stringify(t.shape)}, "data": `;
    if (t.data.length <= 16) return `${head}${JSON.stringify(t.data)}}`;
    const last = t.shape[t.shape.length - 1] ?? 1;
    const width = last > 0 && last <= 8 ? last : 8;
    const rows: string[] = [];
    for (let i = 0; i < t.data.length; i += width) rows.push(`    ${Array.from(t.data.slice(i, i + width) as ArrayLike<number | bigint>, jsonElement).join(', ')}`);
    return `${head}[\n${rows.join(',\n')}\n  ]}`;
  });
  return `[\n${items.join(',\n')}\n]\n`;
}

/** One element as the corpus JSON writes it: i64/ui64 past 2^53 as decimal strings (see runtime/tensor.ts). */
function jsonElement(v: number | bigint): string {
  if (typeof v !== 'bigint') return JSON.stringify(v);
  return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? String(v) : `"${v}"`;
}

function formatValue(v: number | bigint, dtype: string): string {
  if (typeof v === 'bigint') return String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (dtype === 'i1') return v ? 'true' : 'false';
  if (dtype === 'f32' || dtype === 'f16') return Number.isInteger(v) && Math.abs(v) < 1e7 ? v.toFixed(1) : String(Number(v.toPrecision(6)));
  return String(v);
}

/**
 * The values as nested brackets, row-major, at most `max` of them (then `…`); floats to six
 * significant digits.
 */
export function formatTensor(t: HostTensor, max = 2000): string {
  const { shape, data, dtype } = t;
  if (shape.length === 0) return formatValue(data[0], dtype);
  let shown = 0;
  const rec = (dim: number, offset: number, indent: string): string => {
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const parts: string[] = [];
    for (let i = 0; i < shape[dim]; i++) {
      if (shown >= max) {
        parts.push('…');
        break;
      }
      if (dim === shape.length - 1) {
        parts.push(formatValue(data[offset + i], dtype));
        shown++;
      } else {
        parts.push(rec(dim + 1, offset + i * stride, `${indent} `));
      }
    }
    const sep = dim === shape.length - 1 ? ', ' : `,\n${indent} `;
    return `[${parts.join(sep)}]`;
  };
  return rec(0, 0, '');
}

export interface Comparison {
  ok: boolean;
  /** What differs, or the largest absolute difference when all agree. */
  detail: string;
}

/**
 * Compares with the corpus rule |got - want| <= atol + rtol*|want| (atol 1e-5, rtol 1e-3 as for
 * transcendentals on a GPU); integers and booleans exactly, NaN matches NaN.
 */
export function compareTensors(got: HostTensor, want: HostTensor, rtol = 1e-3, atol = 1e-5): Comparison {
  if (got.dtype !== want.dtype) return { ok: false, detail: `dtype ${got.dtype}, expected ${want.dtype}` };
  if (got.shape.join() !== want.shape.join()) return { ok: false, detail: `shape [${got.shape}], expected [${want.shape}]` };
  const exact = want.dtype !== 'f32' && want.dtype !== 'f16';
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const [gb, wb] = [got.data[i], want.data[i]];
    if (typeof gb === 'bigint' || typeof wb === 'bigint') {
      if (gb !== wb) return { ok: false, detail: `element ${i}: got ${gb}, expected ${wb}` };
      continue;
    }
    const [g, w] = [gb, wb];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    const d = Math.abs(g - w);
    if (exact ? g !== w : !(g === w || d <= atol + rtol * Math.abs(w))) {
      return { ok: false, detail: `element ${i}: got ${formatValue(g, got.dtype)}, expected ${formatValue(w, want.dtype)}` };
    }
    if (d > worst) worst = d;
  }
  return { ok: true, detail: exact ? 'exact' : `max |diff| ${worst.toExponential(1)}` };
}
