/**
 * @file The fusion emitter: computes one element of a value at an index by inlining its producers.
 * Data movement (broadcast, reshape, transpose, slice, pad, concatenate, reverse, iota,
 * dynamic_slice) becomes index arithmetic on the consumer's coordinates; elementwise ops become
 * scalar code (see `scalar.ts`); values that live in memory are loads. Every computed element is
 * bound to a `let` and memoised per (value, index) within the current scope, so a value used twice
 * at the same index is computed once.
 */
import { isInt64, isSmallInt, isSupportedDType, lanes, unsupportedDTypeReason, type NarrowDType, type SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Elementwise, Op } from '../../ir/ops.js';
import { stridesOf, type AnyOperation, type Value } from '../../ir/types.js';
import type { BufferId } from '../program.js';
import type { FusedKernel } from './kernel.js';
import { emitScalar, literal, regType } from './scalar.js';

/** An index into a tensor of `shape`: a flat u32 expression, i32 coordinates, or both. */
export interface Idx {
  shape: readonly number[];
  flat?: string;
  coords?: string[];
}

export const SCALAR_IDX: Idx = { shape: [], flat: '0u', coords: [] };

/** Where the emitter finds values: in memory, or computed by an inlinable producer. */
export interface EmitEnv {
  bufferOf(v: Value): BufferId | undefined;
  producer(v: Value): { op: AnyOperation; result: number } | undefined;
}

/** The dtype of a value, refused when the GPU cannot compute on it. */
export function dtypeOf(v: Value, o?: AnyOperation): SupportedDType {
  const d = v.type.dtype;
  if (!isSupportedDType(d)) {
    throw new UnsupportedOpError(`${o?.op ?? 'value'}: ${unsupportedDTypeReason(d)}`, o?.loc);
  }
  return d;
}

/**
 * {@link dtypeOf} for kernels without the two-word emulation of i64/ui64 (matmul, reduce): the
 * verifier keeps 64-bit values out of them; this refuses one that got there anyway.
 */
export function narrowDTypeOf(v: Value, o?: AnyOperation): NarrowDType {
  const d = dtypeOf(v, o);
  if (isSmallInt(d)) throw new Error(`internal: ${d} reached code generation; compiler/passes/smallint.ts computes it as i32/ui32`);
  if (isInt64(d) || d === 'c64') throw new UnsupportedOpError(`${o?.op ?? 'value'}: ${d === 'c64' ? 'complex<f32>' : d} is not supported by this kernel`, o?.loc);
  return d;
}

export class ExprEmitter {
  private readonly scopes: Map<string, string>[] = [new Map()];
  private readonly ids = new Map<Value, number>();
  /** Values held in registers (a reduction's result, a matmul accumulator, region arguments). */
  readonly regs = new Map<Value, string>();
  /** Producers of values local to a region being inlined (a reduce body). */
  readonly local = new Map<Value, { op: AnyOperation; result: number }>();

  constructor(
    readonly k: FusedKernel,
    readonly env: EmitEnv,
  ) {}

  get b() { return this.k.b; }

  /** Runs `f` with a memo scope that is dropped afterwards (for code inside loops and branches). */
  scoped<T>(f: () => T): T {
    this.scopes.push(new Map());
    try { return f(); } finally { this.scopes.pop(); }
  }

  private memo(key: string): string | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const hit = this.scopes[i].get(key);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  private id(v: Value): number {
    let i = this.ids.get(v);
    if (i === undefined) { i = this.ids.size; this.ids.set(v, i); }
    return i;
  }

  /** The i32 coordinates of `idx` (derived from its flat index on first use). */
  coords(idx: Idx): string[] {
    if (idx.coords) return idx.coords;
    const flat = idx.flat!;
    const key = `coords:${flat}:${idx.shape.join('x')}`;
    const hit = this.memo(key);
    if (hit) { idx.coords = hit.split(','); return idx.coords; }
    const strides = stridesOf(idx.shape);
    const cs = idx.shape.map((d, i) => {
      if (d === 1) return '0i';
      const q = strides[i] === 1 ? flat : `(${flat} / ${strides[i]}u)`;
      return this.b.let(i === 0 ? `i32(${q})` : `i32(${q} % ${d}u)`, 'i32', 'c');
    });
    this.scopes[this.scopes.length - 1].set(key, cs.join(','));
    idx.coords = cs;
    return cs;
  }

  /** The flat u32 index of `idx`. */
  flat(idx: Idx): string {
    if (idx.flat) return idx.flat;
    const cs = idx.coords!;
    if (cs.length === 0) return (idx.flat = '0u');
    const strides = stridesOf(idx.shape);
    const terms = cs.map((c, i) => (idx.shape[i] === 1 ? '' : strides[i] === 1 ? c : `${c} * ${strides[i]}i`)).filter(Boolean);
    idx.flat = terms.length ? this.b.let(`u32(${terms.join(' + ')})`, 'u32', 'f') : '0u';
    return idx.flat;
  }

  private key(idx: Idx): string {
    return idx.flat ?? idx.coords!.join(',');
  }

  /**
   * Binds `v`'s element at `idx` to `reg`, a value loaded elsewhere (a lane of a vec4 load), in
   * the current scope: later reads of `v` at the same coordinates use it instead of loading.
   */
  seed(v: Value, idx: Idx, reg: string): void {
    this.scopes[this.scopes.length - 1].set(`${this.id(v)}@${this.key(idx)}`, reg);
  }

  /** A register expression (bound to a name) of `v` at `idx`. */
  value(v: Value, idx: Idx): string {
    const reg = this.regs.get(v);
    if (reg !== undefined) return reg;
    if (v.type.shape.length === 0) idx = SCALAR_IDX;
    const key = `${this.id(v)}@${this.key(idx)}`;
    const hit = this.memo(key);
    if (hit !== undefined) return hit;
    const e = this.compute(v, idx);
    const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(e) ? e : this.b.let(e, regType(dtypeOf(v)), 'v');
    this.scopes[this.scopes.length - 1].set(key, name);
    return name;
  }

  /** A load of `v`'s element at `idx` from `buffer`. */
  load(v: Value, buffer: BufferId, idx: Idx): string {
    const d = dtypeOf(v);
    const name = this.k.storage(buffer, d, 'read');
    const at = `${name}[${this.flat(idx)}]`;
    return d === 'i1' ? `(${at} != 0u)` : d === 'f16' ? `f32(${at})` : at;
  }

  /** A store statement of register `val` of dtype `d` into `name[flat]`. */
  store(d: SupportedDType, name: string, flat: string, val: string): void {
    const e = d === 'i1' ? `select(0u, 1u, ${val})` : d === 'f16' ? `f16(${val})` : val;
    this.b.line(`${name}[${flat}] = ${e};`);
  }

  /**
   * `v` at `idx` computed from its producer even when `v` itself lives in memory: how a kernel
   * computes the values it writes.
   */
  computeTop(v: Value, idx: Idx): string {
    if (v.type.shape.length === 0) idx = SCALAR_IDX;
    const e = this.compute(v, idx, true);
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(e) ? e : this.b.let(e, regType(dtypeOf(v)), 'v');
  }

  private compute(v: Value, idx: Idx, top = false): string {
    const local = this.local.get(v);
    const buf = top || local ? undefined : this.env.bufferOf(v);
    if (buf !== undefined) return this.load(v, buf, idx);
    const p = local ?? this.env.producer(v);
    if (!p) throw new Error(`value ${v.name ?? ''} has neither a buffer nor a producer`);
    const o = p.op;
    const out = dtypeOf(v, o);
    if (out === 'f16') this.k.requireF16();
    if (Elementwise.has(o.op)) {
      const ins = o.operands.map((x) => dtypeOf(x, o));
      const args = o.operands.map((x) => this.value(x, x.type.shape.length === 0 ? SCALAR_IDX : idx));
      try {
        return emitScalar(o.op, { b: this.b, args, ins, out, attrs: o.attrs as never });
      } catch (e) {
        throw new UnsupportedOpError(`${o.op}: ${(e as Error).message}`, o.loc);
      }
    }
    return this.movement(o, out, idx);
  }

  private clampCoord(c: string, size: number): string {
    return `clamp(${c}, 0i, ${size - 1}i)`;
  }

  private movement(o: AnyOperation, out: SupportedDType, idx: Idx): string {
    switch (o.op) {
      case Op.Constant: {
        const lit = o.attrs.value;
        if (!lit.splat && lit.data.length !== lanes(out)) throw new Error('non-splat constants live in buffers');
        return literal(lit.data[0], out, this.b, out === 'c64' ? lit.data[1] as number : 0);
      }
      case Op.Iota: {
        const c = this.coords(idx)[o.attrs.dim];
        if (isInt64(out)) return `vec2<u32>(u32(${c}), 0u)`;
        return out === 'i1' ? `(${c} != 0i)` : out === 'i32' ? c : `${regType(out)}(${c})`;
      }
      case Op.Reshape: {
        const x = o.operands[0];
        return this.value(x, { shape: x.type.shape, flat: this.flat(idx) });
      }
      case Op.BroadcastInDim: {
        const x = o.operands[0];
        // A splat of one element needs no coordinates (no division or modulo by the result's shape).
        if (x.type.shape.every((d) => d === 1)) return this.value(x, { shape: x.type.shape, coords: x.type.shape.map(() => '0i') });
        const cs = this.coords(idx);
        const xc = x.type.shape.map((d, i) => (d === 1 ? '0i' : cs[o.attrs.dims[i]]));
        return this.value(x, { shape: x.type.shape, coords: xc });
      }
      case Op.Transpose: {
        const x = o.operands[0];
        const cs = this.coords(idx);
        const xc = new Array<string>(cs.length);
        o.attrs.permutation.forEach((p, i) => { xc[p] = cs[i]; });
        return this.value(x, { shape: x.type.shape, coords: xc });
      }
      case Op.Slice: {
        const x = o.operands[0];
        const cs = this.coords(idx);
        const { start, strides } = o.attrs;
        const xc = cs.map((c, i) => {
          const scaled = strides[i] === 1 ? c : `${c} * ${strides[i]}i`;
          return start[i] === 0 ? scaled : `(${scaled} + ${start[i]}i)`;
        });
        return this.value(x, { shape: x.type.shape, coords: xc.map((c) => (/^[\w]+$/.test(c) ? c : this.b.let(c, 'i32', 'c'))) });
      }
      case Op.Reverse: {
        const x = o.operands[0];
        const cs = this.coords(idx);
        const xc = cs.map((c, i) => (o.attrs.dims.includes(i) ? this.b.let(`${x.type.shape[i] - 1}i - ${c}`, 'i32', 'c') : c));
        return this.value(x, { shape: x.type.shape, coords: xc });
      }
      case Op.Pad: {
        // Out-of-operand positions take the padding value; the operand is read at clamped
        // coordinates there, and the select discards what it reads.
        const [x, pv] = o.operands;
        const cs = this.coords(idx);
        const { low, interior } = o.attrs;
        const conds: string[] = [];
        const xc = cs.map((c, i) => {
          const size = x.type.shape[i];
          const rel = low[i] === 0 ? c : this.b.let(`${c} - ${low[i]}i`, 'i32', 'c');
          const step = interior[i] + 1;
          if (step === 1) {
            if (low[i] > 0) conds.push(`${rel} >= 0i`);
            if (o.attrs.high[i] > 0) conds.push(`${rel} < ${size}i`);
            return this.b.let(this.clampCoord(rel, Math.max(1, size)), 'i32', 'c');
          }
          conds.push(`${rel} >= 0i && ${rel} % ${step}i == 0i && ${rel} / ${step}i < ${size}i`);
          return this.b.let(this.clampCoord(`${rel} / ${step}i`, Math.max(1, size)), 'i32', 'c');
        });
        const padv = this.value(pv, SCALAR_IDX);
        if (x.type.shape.some((d) => d === 0)) return padv;
        const inner = this.value(x, { shape: x.type.shape, coords: xc });
        return conds.length ? `select(${padv}, ${inner}, ${conds.map((c) => `(${c})`).join(' && ')})` : inner;
      }
      case Op.Concatenate: {
        const dim = o.attrs.dim;
        const cs = this.coords(idx);
        let offset = 0;
        const parts: { lo: number; v: string }[] = [];
        for (const x of o.operands) {
          const size = x.type.shape[dim];
          if (size > 0) {
            const c = offset === 0 ? cs[dim] : this.b.let(this.clampCoord(`${cs[dim]} - ${offset}i`, size), 'i32', 'c');
            const xc = cs.map((cc, i) => (i === dim ? (offset === 0 ? this.b.let(this.clampCoord(cc, size), 'i32', 'c') : c) : cc));
            parts.push({ lo: offset, v: this.value(x, { shape: x.type.shape, coords: xc }) });
          }
          offset += size;
        }
        let e = parts[parts.length - 1].v;
        for (let i = parts.length - 2; i >= 0; i--) e = `select(${e}, ${parts[i].v}, ${cs[dim]} < ${parts[i + 1].lo}i)`;
        return e;
      }
      case Op.DynamicSlice: {
        // Start indices are clamped so the slice stays inside the operand (spec: dynamic_slice).
        const [x, ...starts] = o.operands;
        const cs = this.coords(idx);
        const xc = cs.map((c, i) => {
          const sd = dtypeOf(starts[i], o);
          const s = this.value(starts[i], SCALAR_IDX);
          const si = sd === 'i32' ? s : sd === 'ui32' ? `i32(min(${s}, 0x7fffffffu))` : `i32(${s})`;
          const hi = x.type.shape[i] - o.attrs.sliceSizes[i];
          return this.b.let(`clamp(${si}, 0i, ${hi}i) + ${c}`, 'i32', 'c');
        });
        return this.value(x, { shape: x.type.shape, coords: xc });
      }
      default:
        throw new UnsupportedOpError(`${o.op}: cannot be fused into a kernel`, o.loc);
    }
  }
}
