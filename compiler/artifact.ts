/**
 * @file A compiled program as text, so a server can keep what it compiled across restarts: the
 * `Program` (WGSL kernels, buffer plan, steps, the matmul tiles baked into the kernels) as JSON
 * whose typed arrays (const buffers' `init`, kernels' `uniforms`) are tagged base64. The runtime
 * decides whether a stored artifact still fits (runtime/webgpu/device.ts); this file only turns a
 * program into text and back, refusing text that is not a well-formed program.
 */
import type { Program } from './program.js';

const TYPED = { Uint8Array, Uint32Array, Int32Array, Uint16Array, Float32Array } as const;
type TypedName = keyof typeof TYPED;

/** The program as JSON text; typed arrays become `{$typed, b64}`. */
export function programToText(p: Program): string {
  return JSON.stringify(p, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      const name = v.constructor.name;
      if (!(name in TYPED)) throw new Error(`programToText: cannot store a ${name}`);
      return { $typed: name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    }
    if (typeof v === 'bigint') throw new Error('programToText: cannot store a bigint');
    return v;
  });
}

/** The program `programToText` wrote; throws on text that is not one. */
export function programFromText(text: string): Program {
  const p = JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && '$typed' in v) {
      const { $typed, b64 } = v as { $typed: string; b64: string };
      if (!($typed in TYPED) || typeof b64 !== 'string') throw new Error(`not a stored typed array: ${$typed}`);
      const bytes = Buffer.from(b64, 'base64');
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      const T = TYPED[$typed as TypedName];
      if (copy.byteLength % T.BYTES_PER_ELEMENT !== 0) throw new Error(`a stored ${$typed} of ${copy.byteLength} bytes`);
      return new T(copy.buffer, 0, copy.byteLength / T.BYTES_PER_ELEMENT);
    }
    return v;
  }) as Program;
  const ok = p && Array.isArray(p.buffers) && Array.isArray(p.inputs) && Array.isArray(p.outputs) && Array.isArray(p.kernels) && Array.isArray(p.steps)
    && p.kernels.every((k) => typeof k?.wgsl === 'string' && typeof k.name === 'string' && Array.isArray(k.bindings) && Array.isArray(k.workgroups));
  if (!ok) throw new Error('not a compiled program');
  return p;
}
