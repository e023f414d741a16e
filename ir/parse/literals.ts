/**
 * @file Tensor types and `dense<...>` literals: reading them from text with range checks, and
 * printing them back so that every value round-trips to the same bits (shortest round-trip decimal,
 * hex bit patterns for NaN and infinities, as MLIR prints them).
 */
import type { IToken } from 'chevrotain';
import {
  allocHost, bitWidth, dtypeFromSpelling, dtypeSpelling, f16BitsToF32, f32ToF16Bits, isBool, isComplex, isFloat, isInt64,
  isInt64Array, isUnsigned, lanes, roundF16, type DType, type HostArray, type SupportedDType,
} from '../dtype.js';
import { ParseError, UnsupportedOpError, type Location } from '../errors.js';
import type { DenseLiteral } from '../ops.js';
import { numElements, shapeProblem, type TensorType } from '../types.js';
import { tokLoc } from './lexer.js';
import type { DenseNode } from './syntax.js';

// ---- tensor types -------------------------------------------------------------------------------

/** Reads `tensor<8x16xf32>` (a TensorType token); refuses dynamic shapes, encodings and odd types. */
export function parseTensorType(tok: IToken, file?: string): TensorType {
  const loc = tokLoc(tok, file);
  if (tok.image.startsWith('!')) throw new ParseError(`type ${tok.image} is not supported: kiln handles tensors only`, loc);
  const body = tok.image.slice('tensor<'.length, -1);
  if (body.includes(',')) throw new ParseError(`tensor encodings are not supported in ${tok.image}`, loc);
  // `complex<f32>` holds an `x`-free name in angle brackets: split it off before the dims.
  const elem = /(?:^|x)(complex<[^<>]*>|[^x]*)$/.exec(body)!;
  const spelled = elem[1].trim();
  const parts = elem.index === 0 && !body.startsWith('x') ? [] : body.slice(0, elem.index).split('x');
  const shape: number[] = [];
  for (const p of parts) {
    if (p === '?') throw new ParseError(`dynamic shapes are not supported: ${tok.image} has a dynamic dimension (kiln compiles static shapes, as jax.jit traces them)`, loc);
    if (!/^\d+$/.test(p)) throw new ParseError(`bad dimension '${p}' in ${tok.image}`, loc);
    shape.push(Number(p));
  }
  const dtype = dtypeFromSpelling(spelled);
  if (!dtype) {
    if (/^complex</.test(spelled)) throw new UnsupportedOpError(`${tok.image} is not supported: kiln's complex type is complex<f32>`, loc);
    throw new ParseError(`unknown element type '${spelled}' in ${tok.image}`, loc);
  }
  // Refused here, before any literal or attribute of this type allocates its elements.
  const tooBig = shapeProblem(shape);
  if (tooBig) throw new UnsupportedOpError(`${tok.image} is not supported: ${tooBig}`, loc);
  return { dtype, shape };
}

/**
 * The host storage kiln keeps a dtype's constants in: i64/ui64 exactly (as bigints), other
 * integers in 32 bits, floats as f32 (f64 constants only appear in programs that are refused),
 * complex types as interleaved f32 pairs (c128 constants only appear in refused programs).
 */
export function storageDType(d: DType): SupportedDType {
  if (isComplex(d)) return 'c64';
  if (isFloat(d)) return 'f32';
  if (isBool(d)) return 'i1';
  if (isInt64(d)) return d;
  return isUnsigned(d) ? 'ui32' : 'i32';
}

// ---- reading dense literals --------------------------------------------------------------------

const f32Buf = new Float32Array(1);
const u32Buf = new Uint32Array(f32Buf.buffer);
const f64Buf = new Float64Array(1);
const u64Buf = new BigUint64Array(f64Buf.buffer);

/** The representable integer range of a dtype. */
function intRange(d: DType): [bigint, bigint] {
  if (isBool(d)) return [0n, 1n];
  const bits = BigInt(bitWidth(d));
  return isUnsigned(d) ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
}

/** Rounds to the nearest bf16 (round half to even), kept as a JS number. */
function roundBF16(x: number): number {
  f32Buf[0] = x;
  const b = u32Buf[0];
  if (Number.isNaN(x)) return x;
  u32Buf[0] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
  return f32Buf[0];
}

/** Writes one element into `out[i]`; `bits` carries an exact f32 bit pattern (NaN payloads kept). */
function store(out: HostArray, i: number, d: DType, value: number, bits?: number): void {
  if (bits !== undefined && out instanceof Float32Array) {
    new Uint32Array(out.buffer, out.byteOffset, out.length)[i] = bits;
    return;
  }
  out[i] = d === 'f16' ? roundF16(value) : d === 'bf16' ? roundBF16(value) : value;
}

/** The float type of each part of a complex type. */
function partType(d: DType): DType {
  return d === 'c128' ? 'f64' : 'f32';
}

function elementFromNode(n: DenseNode, d: DType, out: HostArray, i: number, file?: string): void {
  const loc = tokLoc(n.tok, file);
  if (isComplex(d)) {
    // `(re,im)`; each part is read as the part type into slots 2i and 2i+1.
    if (n.k !== 'complex') throw new ParseError(`expected a complex element (re,im) in a dense literal of ${dtypeSpelling(d)}`, loc);
    elementFromNode(n.re, partType(d), out, 2 * i, file);
    elementFromNode(n.im, partType(d), out, 2 * i + 1, file);
    return;
  }
  switch (n.k) {
    case 'bool':
      if (!isBool(d)) throw new ParseError(`boolean ${n.v} in a dense literal of ${d}`, loc);
      out[i] = n.v ? 1 : 0;
      return;
    case 'num': {
      if (isFloat(d)) {
        const v = Number(n.text);
        if (!Number.isFinite(v) || (d !== 'f64' && Math.abs(v) > 3.4028235677973366e38)) {
          throw new ParseError(`value ${n.text} is out of range for ${d}`, loc);
        }
        store(out, i, d, v);
        return;
      }
      if (!/^[-+]?\d+$/.test(n.text)) throw new ParseError(`non-integer value ${n.text} in a dense literal of ${d}`, loc);
      const v = BigInt(n.text);
      const [lo, hi] = intRange(d);
      if (v < lo || v > hi) throw new ParseError(`value ${n.text} is out of range for ${d}`, loc);
      storeInt(out, i, v);
      return;
    }
    case 'hex': {
      const v = BigInt(n.text);
      const w = bitWidth(d);
      if (v >= 1n << BigInt(Math.max(w, 1))) throw new ParseError(`hex value ${n.text} has more than the ${w} bits of ${d}`, loc);
      storeBits(out, i, d, v, loc);
      return;
    }
    case 'list': case 'str':
      throw new ParseError(`expected a scalar in a dense literal of ${d}`, loc);
    case 'complex':
      throw new ParseError(`complex element in a dense literal of ${d}`, loc);
    default: return n satisfies never;
  }
}

/** Stores an element given as its raw bit pattern (hex literal or a byte of a hex string). */
function storeBits(out: HostArray, i: number, d: DType, v: bigint, loc: Location): void {
  switch (d) {
    case 'f32': store(out, i, d, 0, Number(v)); return;
    case 'f16': store(out, i, d, f16BitsToF32(Number(v))); return;
    case 'bf16': store(out, i, d, 0, Number(v) << 16 >>> 0); return;
    case 'f64': u64Buf[0] = v; store(out, i, d, f64Buf[0]); return;
    default: {
      const w = BigInt(bitWidth(d));
      let s = v;
      if (!isUnsigned(d) && !isBool(d) && v >= 1n << (w - 1n)) s = v - (1n << w);
      const [lo, hi] = intRange(d);
      if (s < lo || s > hi) throw new ParseError(`value ${s} is out of range for ${d}`, loc);
      storeInt(out, i, s);
    }
  }
}

/** Stores an in-range integer: exactly as a bigint into 64-bit storage, as a number otherwise. */
function storeInt(out: HostArray, i: number, v: bigint): void {
  if (isInt64Array(out)) out[i] = v;
  else out[i] = Number(v);
}

/** Flattens a nested list, checking it against the shape level by level. */
function flatten(n: DenseNode, shape: readonly number[], depth: number, acc: DenseNode[], type: string, file?: string): void {
  if (depth === shape.length) {
    if (n.k === 'list') throw new ParseError(`dense literal is nested deeper than the rank of ${type}`, tokLoc(n.tok, file));
    acc.push(n);
    return;
  }
  if (n.k !== 'list') {
    throw new ParseError(`dense literal has a scalar where ${type} needs a list of ${shape[depth]}`, tokLoc(n.tok, file));
  }
  if (n.items.length !== shape[depth]) {
    throw new ParseError(
      `dense literal has ${n.items.length} elements in dimension ${depth} but ${type} has ${shape[depth]}`, tokLoc(n.tok, file));
  }
  for (const it of n.items) flatten(it, shape, depth + 1, acc, type, file);
}

/** Reads a `dense<...>` body for a tensor type. `at` locates errors about the literal as a whole. */
export function readDense(body: DenseNode | undefined, t: TensorType, at: IToken, file?: string): DenseLiteral {
  const n = numElements(t.shape);
  const typeText = `tensor<${[...t.shape, dtypeSpelling(t.dtype)].join('x')}>`;
  const storage = storageDType(t.dtype);
  if (!body) {
    if (n !== 0) throw new ParseError(`empty dense<> for ${typeText}, which has ${n} elements`, tokLoc(at, file));
    return { splat: false, data: allocHost(storage, 0) };
  }
  if (body.k === 'str') return readHexString(body, t, typeText, file);
  if (body.k !== 'list') {
    // A scalar body is a splat: one element (a (re,im) pair for complex types).
    const data = allocHost(storage, 1);
    elementFromNode(body, t.dtype, data, 0, file);
    return { splat: true, data };
  }
  const flat: DenseNode[] = [];
  flatten(body, t.shape, 0, flat, typeText, file);
  const data = allocHost(storage, flat.length);
  flat.forEach((e, i) => elementFromNode(e, t.dtype, data, i, file));
  return normalizeSplat(data, lanes(t.dtype));
}

/** `dense<"0x0000803F...">`: raw little-endian bytes, one element (a splat) or all of them. */
function readHexString(body: DenseNode & { k: 'str' }, t: TensorType, typeText: string, file?: string): DenseLiteral {
  const loc = tokLoc(body.tok, file);
  const hex = body.v;
  if (!/^0x([0-9A-Fa-f]{2})*$/.test(hex)) throw new ParseError(`bad hex string in dense literal: "${hex.slice(0, 20)}"`, loc);
  const bytes = (hex.length - 2) / 2;
  // A complex element is its parts' bytes in turn (re then im), numpy's layout.
  const k = lanes(t.dtype);
  const part = isComplex(t.dtype) ? partType(t.dtype) : t.dtype;
  const width = Math.max(1, bitWidth(part) / 8);
  const n = numElements(t.shape);
  const count = bytes / width / k;
  if (count !== n && count !== 1) {
    throw new ParseError(`hex dense literal holds ${count} elements but ${typeText} has ${n}`, loc);
  }
  const data = allocHost(storageDType(t.dtype), count);
  for (let i = 0; i < count * k; i++) {
    let v = 0n;
    for (let b = width - 1; b >= 0; b--) {
      const at = 2 + (i * width + b) * 2;
      v = (v << 8n) | BigInt(parseInt(hex.slice(at, at + 2), 16));
    }
    storeBits(data, i, part, v, loc);
  }
  return count === 1 ? { splat: true, data } : normalizeSplat(data, k);
}

/**
 * A literal whose elements are all the same bits is held as a splat: one canonical form. An
 * element is `k` consecutive slots (2 for complex).
 */
function normalizeSplat(data: HostArray, k = 1): DenseLiteral {
  if (data.length === 0) return { splat: false, data };
  const bits = data instanceof Float32Array ? new Uint32Array(data.buffer, data.byteOffset, data.length) : data;
  for (let i = k; i < bits.length; i++) if (bits[i] !== bits[i % k]) return { splat: false, data };
  return { splat: true, data: data.slice(0, k) as HostArray };
}

// ---- printing -----------------------------------------------------------------------------------

function hexDigits(v: number, digits: number): string {
  return '0x' + v.toString(16).toUpperCase().padStart(digits, '0');
}

/** The shortest decimal that reads back as the same value of `d`. */
function shortestDecimal(v: number, d: DType): string {
  if (Object.is(v, -0)) return '-0.0';
  const same = d === 'f16' ? roundF16 : d === 'bf16' ? roundBF16 : d === 'f64' ? (x: number) => x : Math.fround;
  let s = String(v);
  for (let p = 1; p <= 17; p++) {
    const c = Number(v.toPrecision(p));
    if (same(c) === v) { s = String(c); break; }
  }
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Prints element `i` of a literal of dtype `d` (a complex one as `(re,im)`, as MLIR does). */
export function formatElement(data: HostArray, i: number, d: DType): string {
  if (isComplex(d)) return `(${formatElement(data, 2 * i, partType(d))},${formatElement(data, 2 * i + 1, partType(d))})`;
  if (isBool(d)) return data[i] ? 'true' : 'false';
  if (!isFloat(d) || isInt64Array(data)) return String(data[i]);
  const v = data[i];
  if (Number.isFinite(v)) return shortestDecimal(v, d);
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length)[i];
  switch (d) {
    case 'f16': return hexDigits(f32ToF16Bits(v) | (Number.isNaN(v) ? 0x200 : 0), 4);
    case 'bf16': return hexDigits(bits >>> 16, 4);
    case 'f64': {
      f64Buf[0] = v;
      return '0x' + u64Buf[0].toString(16).toUpperCase().padStart(16, '0');
    }
    default: return hexDigits(bits, 8);
  }
}

/** `dense<1.0>`, `dense<[[1, 2], [3, 4]]>`, `dense<>` (without the type). */
export function formatDense(lit: DenseLiteral, t: TensorType): string {
  if (lit.splat) return `dense<${formatElement(lit.data, 0, t.dtype)}>`;
  if (lit.data.length === 0) return 'dense<>';
  let i = 0;
  const level = (depth: number): string => {
    if (depth === t.shape.length) return formatElement(lit.data, i++, t.dtype);
    const parts: string[] = [];
    for (let k = 0; k < t.shape[depth]; k++) parts.push(level(depth + 1));
    return `[${parts.join(', ')}]`;
  };
  return `dense<${level(0)}>`;
}
