/**
 * @file Shared scaffolding for the hand-written (non-fused) kernels: storage bindings in the layout
 * of `storageOf`, loads and stores that turn i1 words into `bool`, row-major index arithmetic with
 * compile-time strides, and the entry point that recovers a flat invocation index.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { isInt64, isSupportedDType, unsupportedDTypeReason } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Operation, TensorType } from '../../ir/types.js';
import { numElements, stridesOf } from '../../ir/types.js';
import type { Binding, BufferId, KernelSpec, LowerContext } from '../program.js';
import { dispatchFor, flatIndexWgsl, storageOf } from '../program.js';
import { WgslBuilder } from '../wgsl.js';

/** The WGSL type a value of `d` has in registers: i1 is a `bool` there, a `u32` in storage. */
export function regType(d: SupportedDType): 'f32' | 'f16' | 'i32' | 'u32' | 'bool' | 'vec2<u32>' | 'vec2<f32>' {
  return d === 'i1' ? 'bool' : storageOf(d);
}

/** The dtype of a tensor, refused with the op's location when a GPU cannot hold it. */
export function dtypeOf(t: TensorType, o: Operation): SupportedDType {
  if (!isSupportedDType(t.dtype)) throw new UnsupportedOpError(`${o.op}: ${unsupportedDTypeReason(t.dtype)}`, o.loc);
  // These kernels (gather, scatter, sort, windows, convolution) have no i64 emulation.
  if (isInt64(t.dtype)) throw new UnsupportedOpError(`${o.op}: ${t.dtype} is not supported by this kernel`, o.loc);
  return t.dtype;
}

/** A storage binding of a kernel being built. */
export interface StorageVar {
  name: string;
  dtype: SupportedDType;
}

/**
 * One kernel under construction: a WGSL builder plus the bindings it declares, so that the
 * binding index of `@group(0) @binding(i)` always matches `KernelSpec.bindings[i]`.
 */
export class KernelBuilder {
  readonly b = new WgslBuilder();
  private readonly bindings: Binding[] = [];
  private readonly decls: string[] = [];
  private uniformDecl?: string;

  constructor(
    readonly ctx: LowerContext,
    readonly o: Operation,
  ) {}

  /** Declares a storage buffer holding `dtype` elements and returns its WGSL name. */
  storage(buffer: BufferId, dtype: SupportedDType, access: 'read' | 'read_write', name?: string): StorageVar {
    if (dtype === 'f16') {
      if (!this.ctx.target.f16) {
        throw new UnsupportedOpError(`${this.o.op}: f16 needs an adapter with shader-f16`, this.o.loc);
      }
      this.b.enable('f16');
    }
    const i = this.bindings.length;
    const v = name ?? `buf${i}`;
    this.bindings.push({ buffer, access });
    this.decls.push(`@group(0) @binding(${i}) var<storage, ${access}> ${v}: array<${storageOf(dtype)}>;`);
    return { name: v, dtype };
  }

  /** Declares the op's first operands (buffers `buffers`) as storage read in their own dtypes, one per name. */
  operands(buffers: readonly BufferId[], ...names: string[]): StorageVar[] {
    return names.map((name, k) => this.storage(buffers[k], dtypeOf(this.o.operands[k].type, this.o), 'read', name));
  }

  /** Declares the op's first results (buffers `buffers`) as storage written in their own dtypes, one per name. */
  results(buffers: readonly BufferId[], ...names: string[]): StorageVar[] {
    return names.map((name, k) => this.storage(buffers[k], dtypeOf(this.o.results[k].type, this.o), 'read_write', name));
  }

  /** Declares the uniform struct (at binding `bindings.length`, fixed when the kernel is finished). */
  uniforms(fields: string[]): string {
    this.uniformDecl = `struct Params {\n${fields.map((f) => `  ${f}: u32,`).join('\n')}\n}`;
    return 'params';
  }

  /** Registers a dtype used in registers only (a region argument), enabling f16 when needed. */
  use(dtype: SupportedDType): void {
    if (dtype !== 'f16') return;
    if (!this.ctx.target.f16) throw new UnsupportedOpError(`${this.o.op}: f16 needs an adapter with shader-f16`, this.o.loc);
    this.b.enable('f16');
  }

  /** The kernel: declarations, then the lines written to `b`. */
  finish(name: string, workgroups: [number, number, number], uniforms?: Uint32Array): KernelSpec {
    if (this.bindings.length > this.ctx.target.maxStorageBuffers) {
      throw new UnsupportedOpError(
        `${this.o.op}: needs ${this.bindings.length} storage buffers, the adapter allows ${this.ctx.target.maxStorageBuffers}`,
        this.o.loc,
      );
    }
    const head = [...this.decls];
    if (this.uniformDecl) {
      head.push(this.uniformDecl, `@group(0) @binding(${this.bindings.length}) var<uniform> params: Params;`);
    }
    const body = this.b.toString();
    const enables = body.match(/^(enable [a-z0-9_]+;\n)*/)?.[0] ?? '';
    const wgsl = enables + head.join('\n') + '\n\n' + body.slice(enables.length);
    const spec: KernelSpec = { name, wgsl, bindings: this.bindings, workgroups, loc: this.o.loc };
    if (uniforms) spec.uniforms = uniforms;
    if (wgsl.startsWith('enable f16;')) spec.enables = ['f16'];
    return spec;
  }

  /**
   * Writes the entry point of a kernel with one invocation per element of `[0, count)`: `body` sees
   * `idx` (u32) and runs only for in-range invocations. Returns the workgroup counts to dispatch.
   */
  flatEntry(count: number, body: (idx: string) => void, workgroupSize = 64): [number, number, number] {
    const wg = Math.min(workgroupSize, this.ctx.target.maxWorkgroupSize);
    this.b.block(
      `@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`,
      () => {
        this.b.line(`let idx = ${flatIndexWgsl(wg)};`);
        this.b.line(`if (idx >= ${count}u) { return; }`);
        body('idx');
      },
    );
    return dispatchFor(count, wg, this.ctx.target);
  }
}

/** A load from storage as a register value (`bool` for i1). `index` is a u32 expression. */
export function load(v: StorageVar, index: string): string {
  return v.dtype === 'i1' ? `(${v.name}[${index}] != 0u)` : `${v.name}[${index}]`;
}

/** A store statement of a register value to storage. */
export function store(v: StorageVar, index: string, value: string): string {
  return v.dtype === 'i1' ? `${v.name}[${index}] = select(0u, 1u, ${value});` : `${v.name}[${index}] = ${value};`;
}

/** Emits `let`s for the i32 coordinates of a flat u32 index in a row-major `shape`. */
export function unflatten(b: WgslBuilder, flat: string, shape: readonly number[], prefix = 'c'): string[] {
  const strides = stridesOf(shape);
  const rem = b.var('u32', flat, 'r');
  return shape.map((_, d) => {
    if (d === shape.length - 1) return b.let(`i32(${rem})`, 'i32', prefix);
    const c = b.let(`i32(${rem} / ${strides[d]}u)`, 'i32', prefix);
    b.line(`${rem} = ${rem} % ${strides[d]}u;`);
    return c;
  });
}

/** A u32 expression of the row-major flat index of i32 `coords` in `shape`. */
export function flatten(coords: readonly string[], shape: readonly number[]): string {
  if (shape.length === 0) return '0u';
  const strides = stridesOf(shape);
  const simple = (c: string) => /^[A-Za-z_0-9]+$/.test(c);
  const terms = coords.map((c, d) => (strides[d] === 1 ? c : `${simple(c) ? c : `(${c})`} * ${strides[d]}`));
  return `u32(${terms.join(' + ')})`;
}

/** Elements of a tensor type. */
export function sizeOf(t: TensorType): number {
  return numElements(t.shape);
}

/** A WGSL expression reading the i32 value of a start index held in storage as `dtype`. */
export function indexAsI32(expr: string, dtype: SupportedDType): string {
  // ui32 indices past i32's range are clamped to i32's maximum, which every clamp below handles.
  return dtype === 'ui32' ? `i32(min(${expr}, 2147483647u))` : dtype === 'i32' ? expr : `i32(${expr})`;
}
