/**
 * @file One fused kernel under construction: its storage bindings (deduplicated, so a buffer read
 * twice binds once), an optional uniform block, and the assembly of the final `KernelSpec`.
 */
import { UnsupportedOpError, type Location } from '../../ir/errors.js';
import type { SupportedDType } from '../../ir/dtype.js';
import type { Binding, BufferId, KernelSpec, Target } from '../program.js';
import { storageOf } from '../program.js';
import { WgslBuilder } from '../wgsl.js';

/** Element types of the vec4 views of storage. */
export type VecElem = 'f32' | 'f16' | 'i32' | 'u32';

export class FusedKernel {
  readonly b = new WgslBuilder();
  private readonly bindings: Binding[] = [];
  private readonly names = new Map<string, string>();
  private readonly decls: string[] = [];
  private uniformFields: string[] = [];
  private uniformValues: number[] = [];

  constructor(
    readonly target: Target,
    readonly loc: Location | undefined,
    readonly what: string,
  ) {}

  /** The WGSL name of `buffer` bound with `access` (declared on first use). */
  storage(buffer: BufferId, dtype: SupportedDType, access: 'read' | 'read_write'): string {
    const key = `${buffer}:${access}`;
    const known = this.names.get(key);
    if (known) return known;
    if (dtype === 'f16') this.requireF16();
    const i = this.bindings.length;
    const name = access === 'read' ? `in${i}` : `out${i}`;
    this.bindings.push({ buffer, access });
    this.decls.push(`@group(0) @binding(${i}) var<storage, ${access}> ${name}: array<${storageOf(dtype)}>;`);
    this.names.set(key, name);
    return name;
  }

  /**
   * The WGSL name of `buffer` viewed as `array<vec4<elem>>` (for 16-byte loads and stores, 8 of
   * f16, of data whose rows are multiples of 4 elements). A separate binding from the scalar view.
   */
  storageVec4(buffer: BufferId, access: 'read' | 'read_write', elem: VecElem = 'f32'): string {
    const key = `${buffer}:${access}:vec4<${elem}>`;
    const known = this.names.get(key);
    if (known) return known;
    if (elem === 'f16') this.requireF16();
    const i = this.bindings.length;
    const name = access === 'read' ? `in${i}` : `out${i}`;
    this.bindings.push({ buffer, access });
    this.decls.push(`@group(0) @binding(${i}) var<storage, ${access}> ${name}: array<vec4<${elem}>>;`);
    this.names.set(key, name);
    return name;
  }

  /**
   * Storage bindings so far (a buffer bound as scalars and as vec4s counts twice); an emitter that
   * can do without some checks this against the target's limit.
   */
  get storageBindings(): number {
    return this.bindings.length;
  }

  /** A u32 uniform field holding `value` (sizes live here so one shader serves many shapes). */
  uniform(field: string, value: number): string {
    const i = this.uniformFields.indexOf(field);
    if (i >= 0) {
      this.uniformValues[i] = value;
      return `params.${field}`;
    }
    this.uniformFields.push(field);
    this.uniformValues.push(value);
    return `params.${field}`;
  }

  requireF16(): void {
    if (!this.target.f16) {
      throw new UnsupportedOpError(`${this.what}: f16 needs an adapter with the shader-f16 feature`, this.loc);
    }
    this.b.enable('f16');
  }

  finish(name: string, workgroups: [number, number, number]): KernelSpec {
    if (this.bindings.length > this.target.maxStorageBuffers) {
      throw new UnsupportedOpError(
        `${this.what}: the fused kernel needs ${this.bindings.length} storage buffers, the adapter allows ${this.target.maxStorageBuffers}`,
        this.loc,
      );
    }
    const head = [...this.decls];
    if (this.uniformFields.length) {
      head.push(`struct Params {\n${this.uniformFields.map((f) => `  ${f}: u32,`).join('\n')}\n}`);
      head.push(`@group(0) @binding(${this.bindings.length}) var<uniform> params: Params;`);
    }
    const body = this.b.toString();
    const enables = body.match(/^(enable [a-z0-9_]+;\n)*\n?/)?.[0] ?? '';
    const wgsl = enables + head.join('\n') + '\n\n' + body.slice(enables.length);
    const spec: KernelSpec = { name, wgsl, bindings: this.bindings, workgroups };
    if (this.loc) spec.loc = this.loc;
    if (this.uniformFields.length) {
      // Uniform blocks are 16-byte aligned.
      const u = new Uint32Array(Math.ceil(this.uniformValues.length / 4) * 4);
      u.set(this.uniformValues);
      spec.uniforms = u;
    }
    if (enables.includes('f16')) spec.enables = ['f16'];
    return spec;
  }
}
