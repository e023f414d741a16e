/**
 * @file `stablehlo.fft` on WebGPU (https://openxla.org/stablehlo/spec#fft): FFT, IFFT, RFFT and
 * IRFFT over the trailing 1 to 3 dims, batched over the leading ones, any lengths.
 *
 * The transform is separable: one pass per transformed axis, each a kernel that reads the previous
 * pass's buffer and writes the next (scratch buffers in between, the result last). Within a pass,
 * lengths that are powers of two run a Stockham radix-2 FFT in workgroup memory (one workgroup a
 * line, log2 n stages, no bit reversal) while n <= {@link MAX_SHARED}; any other length a direct
 * DFT, one invocation per output element, whose twiddle index is reduced exactly as (j * k) mod n
 * in integers and the angle taken in (-pi, pi], so accuracy does not degrade with n or k. RFFT
 * runs its real-to-complex pass on the last axis first (keeping n/2 + 1 bins); IRFFT runs the
 * complex inverse passes first and its complex-to-real pass on the last axis last, reading the
 * missing bins as conjugates (X[n-k] = conj X[k]), as numpy's irfftn does. IFFT and IRFFT scale
 * each pass by 1/n.
 *
 * Dispatches: one per transformed axis.
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import { numElements } from '../../ir/types.js';
import type { BufferId, LowerContext, OpLowering } from '../program.js';
import { storageSize } from '../program.js';
import { KernelBuilder, load, store } from './common.js';

/** Longest power-of-two line a Stockham pass keeps in workgroup memory (2 x n vec2<f32>, within the adapter's limit). */
export const MAX_SHARED = 1024;

/** What one pass does to its axis. */
type PassKind = 'c2c' | 'r2c' | 'c2r';

interface Pass {
  kind: PassKind;
  /** Shapes read and written (they differ on the axis for r2c and c2r). */
  inShape: number[];
  outShape: number[];
  axis: number;
  /** The transform length along the axis. */
  n: number;
  inverse: boolean;
}

/** The passes of one fft op, in order. */
function planPasses(type: string, inShape: readonly number[], lengths: readonly number[]): Pass[] {
  const rank = inShape.length;
  const axes = lengths.map((_, i) => rank - lengths.length + i);
  const last = axes[axes.length - 1];
  const n = lengths[lengths.length - 1];
  const half = Math.floor(n / 2) + 1;
  const passes: Pass[] = [];
  let shape = [...inShape];
  const push = (kind: PassKind, axis: number, len: number, inverse: boolean, outLen: number) => {
    const outShape = [...shape];
    outShape[axis] = outLen;
    passes.push({ kind, inShape: shape, outShape, axis, n: len, inverse });
    shape = outShape;
  };
  if (type === 'RFFT') {
    push('r2c', last, n, false, half);
    for (const a of axes.slice(0, -1)) push('c2c', a, shape[a], false, shape[a]);
  } else if (type === 'IRFFT') {
    for (const a of axes.slice(0, -1)) push('c2c', a, shape[a], true, shape[a]);
    push('c2r', last, n, true, n);
  } else {
    for (const a of axes) push('c2c', a, shape[a], type === 'IFFT', shape[a]);
  }
  return passes;
}

/** Splits a flat output index into (outer, position on the axis, inner). */
function lineCoords(kb: KernelBuilder, flat: string, shape: readonly number[], axis: number): { outer: string; k: string; inner: string } {
  const inner = numElements(shape.slice(axis + 1));
  const len = shape[axis];
  const b = kb.b;
  return {
    outer: b.let(`${flat} / ${len * inner}u`, 'u32', 'o'),
    k: b.let(`(${flat} / ${inner}u) % ${len}u`, 'u32', 'k'),
    inner: b.let(`${flat} % ${inner}u`, 'u32', 'i'),
  };
}

/** The twiddle e^(sign 2 pi i t / n) for an exact integer residue `t` in [0, n), angle in (-pi, pi]. */
function twiddle(kb: KernelBuilder, t: string, n: number, sign: number): string {
  const b = kb.b;
  const s = b.let(`select(i32(${t}), i32(${t}) - ${n}i, ${t} > ${Math.floor(n / 2)}u)`, 'i32', 's');
  const ang = b.let(`${sign.toFixed(1)} * 6.283185307179586 * f32(${s}) / ${n}.0`, 'f32', 'a');
  return b.let(`vec2<f32>(cos(${ang}), sin(${ang}))`, 'vec2<f32>', 'w');
}

/** A direct-DFT pass: one invocation per output element, a loop over the input line. */
function directPass(kb: KernelBuilder, p: Pass, src: BufferId, dst: BufferId): [number, number, number] {
  const b = kb.b;
  const inVar = kb.storage(src, p.kind === 'r2c' ? 'f32' : 'c64', 'read', 'src');
  const outVar = kb.storage(dst, p.kind === 'c2r' ? 'f32' : 'c64', 'read_write', 'dst');
  const inner = numElements(p.inShape.slice(p.axis + 1));
  const inLen = p.inShape[p.axis];
  const n = p.n;
  const sign = p.inverse ? 1 : -1;
  return kb.flatEntry(numElements(p.outShape), (idx) => {
    const { outer, k, inner: i } = lineCoords(kb, idx, p.outShape, p.axis);
    const base = b.let(`${outer} * ${inLen * inner}u + ${i}`, 'u32', 'base');
    b.line('var acc = vec2<f32>(0.0, 0.0);');
    b.line('var t = 0u;');
    // t = j * k mod n, advanced by k each step and reduced by one subtraction: exact integers.
    b.block(`for (var j = 0u; j < ${n}u; j = j + 1u)`, () => {
      let x: string;
      if (p.kind === 'r2c') x = `vec2<f32>(${load(inVar, `${base} + j * ${inner}u`)}, 0.0)`;
      else if (p.kind === 'c2r') {
        // Bins past n/2 are the conjugates of the kept ones.
        const jj = b.let(`select(${n}u - j, j, j < ${inLen}u)`, 'u32', 'jj');
        const v = b.let(load(inVar, `${base} + ${jj} * ${inner}u`), 'vec2<f32>', 'v');
        x = b.let(`select(vec2<f32>(${v}.x, -${v}.y), ${v}, j < ${inLen}u)`, 'vec2<f32>', 'x');
      } else x = load(inVar, `${base} + j * ${inner}u`);
      const xv = b.let(x, 'vec2<f32>', 'x');
      const w = twiddle(kb, 't', n, sign);
      if (p.kind === 'c2r') b.line(`acc.x = acc.x + ${xv}.x * ${w}.x - ${xv}.y * ${w}.y;`);
      else b.line(`acc = acc + vec2<f32>(${xv}.x * ${w}.x - ${xv}.y * ${w}.y, ${xv}.x * ${w}.y + ${xv}.y * ${w}.x);`);
      b.line(`t = t + ${k};`);
      b.line(`if (t >= ${n}u) { t = t - ${n}u; }`);
    });
    const scaled = p.inverse ? `acc * ${(1 / n).toPrecision(9)}` : 'acc';
    b.line(store(outVar, idx, p.kind === 'c2r' ? `(${scaled}).x` : scaled));
  });
}

/**
 * A Stockham radix-2 pass for a power-of-two c2c line of n <= {@link MAX_SHARED}: one workgroup a
 * line, the line in workgroup memory, log2 n stages ping-ponging between two halves, each
 * invocation doing butterflies strided by the workgroup size. Twiddles come from exact residues.
 */
function stockhamPass(kb: KernelBuilder, p: Pass, src: BufferId, dst: BufferId): [number, number, number] {
  const b = kb.b;
  const inVar = kb.storage(src, 'c64', 'read', 'src');
  const outVar = kb.storage(dst, 'c64', 'read_write', 'dst');
  const n = p.n;
  const inner = numElements(p.inShape.slice(p.axis + 1));
  const lines = numElements(p.inShape) / n;
  const wg = Math.min(64, kb.ctx.target.maxWorkgroupSize, Math.max(1, n / 2));
  const sign = p.inverse ? 1 : -1;
  const stages = Math.log2(n);
  b.line(`var<workgroup> buf: array<vec2<f32>, ${2 * n}>;`);
  b.line('');
  b.block(`@compute @workgroup_size(${wg}) fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
    b.line('let line = wid.x + wid.y * nwg.x;');
    // Every invocation reaches the barriers; lines past the end only skip their loads and stores.
    b.line(`let live = line < ${lines}u;`);
    b.line(`let base = (line / ${inner}u) * ${n * inner}u + line % ${inner}u;`);
    b.block(`for (var j = lid; j < ${n}u; j = j + ${wg}u)`, () => {
      b.line(`if (live) { buf[j] = ${load(inVar, `base + j * ${inner}u`)}; }`);
    });
    b.line('workgroupBarrier();');
    // Stage s: sub-transforms of length 2^(s+1); Stockham's autosort indexing (no bit reversal).
    b.line('var fr = 0u;');
    b.block(`for (var s = 0u; s < ${stages}u; s = s + 1u)`, () => {
      b.line('let m = 1u << s;');
      b.line(`let tt = ${n}u - fr;`);
      b.block(`for (var q = lid; q < ${n / 2}u; q = q + ${wg}u)`, () => {
        // q = group g (of size m) and position r within it.
        b.line('let r = q % m;');
        b.line('let g = q / m;');
        b.line(`let a = buf[fr + q];`);
        b.line(`let c = buf[fr + q + ${n / 2}u];`);
        // Twiddle e^(sign 2 pi i r / 2m) = e^(sign 2 pi i (r * n / 2m) / n): an exact residue of n.
        b.line(`let t = r * (${n}u / (2u * m));`);
        const w = twiddle(kb, 't', n, sign);
        b.line(`let cw = vec2<f32>(c.x * ${w}.x - c.y * ${w}.y, c.x * ${w}.y + c.y * ${w}.x);`);
        b.line('buf[tt + g * 2u * m + r] = a + cw;');
        b.line('buf[tt + g * 2u * m + r + m] = a - cw;');
      });
      b.line('fr = tt;');
      b.line('workgroupBarrier();');
    });
    const scale = p.inverse ? ` * ${(1 / n).toPrecision(9)}` : '';
    b.block(`for (var j = lid; j < ${n}u; j = j + ${wg}u)`, () => {
      b.line(`if (live) { ${store(outVar, `base + j * ${inner}u`, `buf[fr + j]${scale}`)} }`);
    });
  });
  const x = Math.min(lines, kb.ctx.target.maxWorkgroupsPerDim);
  return [x, Math.ceil(lines / x), 1];
}

/** Lowers `stablehlo.fft`: one pass (dispatch) per transformed axis. */
export const lowerFft: OpLowering<Op.Fft> = (o, operands, results, ctx) => {
  const x = o.operands[0].type;
  const out = o.results[0].type;
  if (numElements(x.shape) === 0 || numElements(out.shape) === 0) return;
  const passes = planPasses(o.attrs.fftType, x.shape, o.attrs.fftLength);
  for (const p of passes) {
    if (p.n >= 65536) throw new UnsupportedOpError(`${o.op}: a transform of length ${p.n} is not supported on WebGPU (lengths up to 65535: the twiddle index j * k must fit 32 bits)`, o.loc);
  }
  let src: BufferId = operands[0];
  passes.forEach((p, i) => {
    const lastPass = i === passes.length - 1;
    const dst = lastPass ? results[0] : ctx.temp(storageSize({ dtype: 'c64', shape: p.outShape }));
    const kb = new KernelBuilder(ctx, o);
    const shared = Math.min(MAX_SHARED, Math.floor(ctx.target.maxWorkgroupStorage / 16));
    const pow2 = p.kind === 'c2c' && p.n >= 2 && (p.n & (p.n - 1)) === 0 && p.n <= shared;
    const wg = pow2 ? stockhamPass(kb, p, src, dst) : directPass(kb, p, src, dst);
    ctx.dispatch(kb.finish(`fft_${pow2 ? 'stockham' : 'dft'}_${p.kind}_${p.n}_${o.loc?.line ?? 0}`, wg));
    src = dst;
  });
};
