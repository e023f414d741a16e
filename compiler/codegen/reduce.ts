/**
 * @file The reduce kernel: one workgroup per output element ("row"). Each thread folds a strided
 * share of the row with the reduce body (emitted as scalar WGSL from the body region, so
 * variadic reductions such as argmax work), then the threads' partials are combined: by subgroup
 * operations (`subgroupAdd`, ...) and one partial per subgroup in workgroup memory where the
 * adapter has `subgroups` and the body is a single add, multiply, max or min; else by a tree in
 * workgroup memory. The init value is folded in once at the end. Producers are fused into
 * the loads; epilogue values (see `fusion.ts`) are computed from the result while it is still in
 * registers: per row ('out'), or over the whole row of the input ('row', e.g. softmax's divide).
 * https://openxla.org/stablehlo/spec#reduce
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { numElements, sameShape, type AnyOperation, type Operation, type Value } from '../../ir/types.js';
import type { KernelSpec } from '../program.js';
import { dispatchFor, flatIndexWgsl } from '../program.js';
import type { Epilogue } from '../fusion.js';
import { KIND } from '../fusion.js';
import { SCALAR_IDX, dtypeOf, narrowDTypeOf, type ExprEmitter } from './expr.js';
import { newKernel, type GroupEnv } from './group.js';
import { regType } from './scalar.js';
import { useHelper } from './helpers.js';
import { binaryOpOf } from '../passes/rewrite.js';

/** Most elements of a row one thread holds in registers (see `resident` below). */
const MAX_RESIDENT = 16;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Emits the body region of a reduce-like op as inline scalar code: `acc` and `x` are the register
 * names of the accumulators and the incoming values; returns the names of the combined values.
 */
export function emitCombiner(em: ExprEmitter, o: AnyOperation, acc: string[], x: string[]): string[] {
  const body = o.regions[0].block;
  return em.scoped(() => {
    const n = acc.length;
    body.args.forEach((a, i) => em.regs.set(a, i < n ? acc[i] : x[i - n]));
    for (const op of body.ops as AnyOperation[]) {
      if (op.op === Op.Return) continue;
      const k = KIND[op.op];
      if (k !== 'elementwise' && k !== 'movement') {
        throw new UnsupportedOpError(`${o.op}: ${op.op} inside a reduction body is not supported`, op.loc ?? o.loc);
      }
      op.results.forEach((r, j) => em.local.set(r, { op, result: j }));
    }
    const ret = body.ops[body.ops.length - 1];
    const out = ret.operands.map((v) => em.value(v, SCALAR_IDX));
    for (const a of body.args) em.regs.delete(a);
    return out;
  });
}

/** Subgroup builtin, identity element and NaN rule of a body that is one commutative op. */
interface SubgroupCombine {
  fn: 'subgroupAdd' | 'subgroupMul' | 'subgroupMax' | 'subgroupMin';
  identity: string;
  /** max/min of floats: a NaN anywhere makes the result NaN (stablehlo semantics, as `k_fmax`). */
  nan: boolean;
}

/**
 * The subgroup form of a reduce body, when it is exactly `return op(a, b)` over its two block
 * arguments with op in add / multiply / maximum / minimum on f32, i32 or u32 registers.
 */
function subgroupCombine(o: AnyOperation, ty: 'f32' | 'i32' | 'u32' | 'bool'): SubgroupCombine | undefined {
  const op = binaryOpOf(o.regions[0].block);
  if (ty === 'bool' || op === undefined) return undefined;
  const inf = ty === 'f32' ? 'k_fbits(0x7f800000u)' : ty === 'i32' ? '2147483647i' : '0xffffffffu';
  const ninf = ty === 'f32' ? 'k_fbits(0xff800000u)' : ty === 'i32' ? '(-2147483647i - 1i)' : '0u';
  const zero = ty === 'f32' ? '0.0' : ty === 'i32' ? '0i' : '0u';
  const one = ty === 'f32' ? '1.0' : ty === 'i32' ? '1i' : '1u';
  switch (op) {
    // -0 is the identity of a float sum (0 + -0 is +0).
    case Op.Add: return { fn: 'subgroupAdd', identity: ty === 'f32' ? '-0.0' : zero, nan: false };
    case Op.Multiply: return { fn: 'subgroupMul', identity: one, nan: false };
    case Op.Maximum: return { fn: 'subgroupMax', identity: ninf, nan: ty === 'f32' };
    case Op.Minimum: return { fn: 'subgroupMin', identity: inf, nan: ty === 'f32' };
    default: return undefined;
  }
}

/**
 * The kernel of a reduce group: `o`, then each of `stages` over the same rows, then the
 * epilogues. Where the row is held in registers and is contiguous, the inputs read at the row's
 * own elements are loaded 16 bytes at a time (and f32 row epilogues stored so), unless the vec4
 * views would bind more buffers than the target allows.
 */
export function emitReduceKernel(
  env: GroupEnv,
  o: Operation<Op.Reduce>,
  stages: readonly Operation<Op.Reduce>[],
  epilogues: readonly Epilogue[],
  write: readonly boolean[],
  name: string,
): KernelSpec | undefined {
  if (threadPerRow(o, stages, epilogues)) return emitThreadRows(env, o, epilogues, write, name);
  const vec = emitRows(env, o, stages, epilogues, write, name, true);
  return vec === 'scalar' ? (emitRows(env, o, stages, epilogues, write, name, false) as KernelSpec | undefined) : vec;
}

/** A reduce's rows: its input's kept and reduced dimensions and their sizes. */
function rowsOf(o: Operation<Op.Reduce>) {
  const inShape = o.operands[0].type.shape;
  const dims = o.attrs.dims;
  const keep = inShape.map((_, i) => i).filter((i) => !dims.includes(i));
  const redShape = dims.map((d) => inShape[d]);
  const outShape = o.results[0].type.shape;
  return { inShape, dims, keep, redShape, outShape, rows: numElements(outShape), red: numElements(redShape) };
}

/** The input index of element `kflat` of the row whose output coordinates are `rowCoords`. */
function inputIndex(em: ExprEmitter, r: ReturnType<typeof rowsOf>, rowCoords: readonly string[], kflat: string): { shape: readonly number[]; coords: string[] } {
  const kc = em.coords({ shape: r.redShape, flat: kflat });
  const cs = new Array<string>(r.inShape.length);
  r.keep.forEach((d, j) => { cs[d] = rowCoords[j]; });
  r.dims.forEach((d, j) => { cs[d] = kc[j]; });
  return { shape: r.inShape, coords: cs };
}

/** Rows at most this long are folded by one thread each when there are many of them. */
const SHORT_ROW = 16;

/** Rows from which short rows get a thread each (fewer leave a workgroup a row, which combines in parallel). */
const MANY_ROWS = 1024;

/**
 * Whether `o` is many short rows (a split-K sum over its slices, a sum over a small leading
 * axis): a workgroup a row would run a handful of threads per workgroup, so each thread folds one
 * row, and neighbouring threads read neighbouring elements when the reduced axes lead.
 */
function threadPerRow(o: Operation<Op.Reduce>, stages: readonly Operation<Op.Reduce>[], epilogues: readonly Epilogue[]): boolean {
  const { red, rows } = rowsOf(o);
  return stages.length === 0 && epilogues.every((e) => e.mode === 'out') && red > 0 && red <= SHORT_ROW && rows >= MANY_ROWS;
}

/** The thread-per-row kernel: each thread folds its row in order, from the init value, and stores it with the per-row epilogues. */
function emitThreadRows(env: GroupEnv, o: Operation<Op.Reduce>, epilogues: readonly Epilogue[], write: readonly boolean[], name: string): KernelSpec | undefined {
  const r = rowsOf(o);
  const { outShape, rows, red } = r;
  const { k, em } = newKernel(env, o.loc, o.op);
  const t = env.target;
  const wg = Math.min(256, t.maxWorkgroupSize);
  const n = o.results.length;
  const b = k.b;
  b.block(`@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
    b.line(`let row = ${flatIndexWgsl(wg)};`);
    b.line(`if (row >= ${rows}u) { return; }`);
    const rowCoords = em.coords({ shape: outShape, flat: 'row' });
    const types = o.results.map((r) => regType(narrowDTypeOf(r, o as AnyOperation)));
    const acc = o.operands.slice(n).map((v, i) => b.var(types[i], em.value(v, SCALAR_IDX), 'acc'));
    for (let j = 0; j < red; j++) {
      em.scoped(() => {
        const at = inputIndex(em, r, rowCoords, `${j}u`);
        const xs = o.operands.slice(0, n).map((v) => em.value(v, at));
        emitCombiner(em, o as AnyOperation, acc, xs).forEach((y, i) => b.line(`${acc[i]} = ${y};`));
      });
    }
    o.results.forEach((r, i) => {
      em.regs.set(r, acc[i]);
      if (write[i]) em.store(dtypeOf(r), k.storage(env.buffer(r), dtypeOf(r), 'read_write'), 'row', acc[i]);
    });
    for (const e of epilogues) {
      const val = em.computeTop(e.value, { shape: e.value.type.shape, flat: 'row' });
      em.regs.set(e.value, val);
      const d = dtypeOf(e.value);
      em.store(d, k.storage(env.buffer(e.value), d, 'read_write'), 'row', val);
    }
    for (const e of epilogues) em.regs.delete(e.value);
    o.results.forEach((r) => em.regs.delete(r));
  });
  return k.finish(name, dispatchFor(rows, wg, t));
}

/**
 * Buffered f32 values that the kernel reads, `reads` themselves or through their inlined
 * producers, and what computing `computed` reads (epilogues and results excluded): of the input's
 * shape ('row'), or of the reduced dimensions' (a 'param' such as layer norm's gamma, broadcast
 * over the rows).
 */
function rowLeaves(
  env: GroupEnv,
  reads: readonly Value[],
  computed: readonly Value[],
  shapes: { row: readonly number[]; param: readonly number[] },
  exclude: ReadonlySet<Value>,
): { v: Value; kind: 'row' | 'param' }[] {
  const out = new Map<Value, 'row' | 'param'>();
  const seen = new Set<Value>();
  const walk = (v: Value, top: boolean) => {
    if (seen.has(v) || (!top && exclude.has(v))) return;
    seen.add(v);
    const p = env.plan.producer.get(v);
    if (!top && (env.plan.buffered.has(v) || !p)) {
      if (v.type.dtype !== 'f32') return;
      if (sameShape(v.type.shape, shapes.row)) out.set(v, 'row');
      else if (sameShape(v.type.shape, shapes.param)) out.set(v, 'param');
      return;
    }
    if (p) for (const x of p.op.operands) walk(x, false);
  };
  for (const v of reads) walk(v, false);
  for (const v of computed) walk(v, true);
  return [...out].map(([v, kind]) => ({ v, kind }));
}

function emitRows(
  env: GroupEnv,
  o: Operation<Op.Reduce>,
  stages: readonly Operation<Op.Reduce>[],
  epilogues: readonly Epilogue[],
  write: readonly boolean[],
  name: string,
  vec4: boolean,
): KernelSpec | undefined | 'scalar' {
  const all = [o, ...stages];
  const r = rowsOf(o);
  const { inShape, dims, redShape, outShape, rows, red } = r;
  if (rows === 0) return undefined;
  const { k, em } = newKernel(env, o.loc, o.op);
  const t = env.target;
  const typesOf = (s: Operation<Op.Reduce>) => s.results.map((r) => regType(narrowDTypeOf(r, s as AnyOperation)));
  const rowEps = epilogues.filter((e) => e.mode === 'row');
  // 256 threads a row; up to 1024 when a few long rows would leave the GPU nearly idle (a
  // loss's mean over a whole batch is one row of 10^5..10^6 elements).
  const cap = rows < 64 && red >= 65536 ? 1024 : 256;
  let wg = Math.max(1, Math.min(cap, t.maxWorkgroupSize, nextPow2(red)));
  // A kernel that reads its row more than once (stages, per-element epilogues) sizes its
  // workgroup to hold the row in registers, MAX_RESIDENT elements a thread: fewer threads for
  // short rows (a warp's width for 512; fewer combining steps and barriers, which a CPU adapter
  // pays dearly for), up to 1024 for long ones.
  if (stages.length > 0 || rowEps.length > 0) {
    const fit = nextPow2(Math.ceil(red / MAX_RESIDENT));
    wg = Math.max(1, Math.min(red > MAX_RESIDENT * wg ? 1024 : wg, t.maxWorkgroupSize, Math.max(fit, Math.min(32, nextPow2(red)))));
  }
  const slotsPerThread = all.reduce((c, s) => c + s.results.length, 0);
  while (wg > 1 && wg * 4 * slotsPerThread > t.maxWorkgroupStorage) wg /= 2;
  // vec4: the reduced dimensions are the trailing ones (a row is contiguous, element k of row r
  // at r * red + k), 4 | red, and a thread's share is at most MAX_RESIDENT elements.
  const trailing = [...dims].sort((a, b) => a - b).every((d, j) => d === inShape.length - dims.length + j);
  const red4 = red / 4;
  const per4 = Math.ceil(red4 / wg);
  const epiValues = new Set<Value>([...epilogues.map((e) => e.value), ...all.flatMap((s) => s.results)]);
  const leaves = vec4 && red > 0 && red % 4 === 0 && trailing && 4 * per4 <= MAX_RESIDENT
    ? rowLeaves(env, all.flatMap((s) => s.operands.slice(0, s.results.length)), rowEps.map((e) => e.value), { row: inShape, param: redShape }, epiValues)
    : [];
  if (vec4 && !leaves.some((l) => l.kind === 'row')) return 'scalar';
  const b = k.b;
  const subs = all.map((s) => {
    const ty = typesOf(s);
    return t.subgroups && s.results.length === 1 && wg > 1 && red > 0 ? subgroupCombine(s as AnyOperation, ty[0]) : undefined;
  });
  if (subs.some((x) => x)) b.enable('subgroups');
  // Non-finite identities and NaN go through k_fbits (a constant bitcast to one is an error).
  if (subs.some((x, i) => x && typesOf(all[i])[0] === 'f32')) useHelper(b, 'k_fbits');
  // One slot per subgroup where a stage combines by subgroups (at least 4 invocations each,
  // WebGPU's minimum size), else one per thread; each stage has its own arrays.
  all.forEach((s, si) => {
    const slots = subs[si] ? Math.max(1, Math.floor(wg / 4)) : wg;
    typesOf(s).forEach((ty, i) => b.line(`var<workgroup> sh${si}_${i}: array<${ty === 'bool' ? 'u32' : ty}, ${slots}>;`));
  });
  b.line('');
  const sgArgs = subs.some((x) => x) ? ', @builtin(subgroup_invocation_id) sgi: u32, @builtin(subgroup_size) sgn: u32' : '';
  b.block(`@compute @workgroup_size(${wg}) fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>${sgArgs})`, () => {
    b.line(`let row = wid.x + wid.y * nwg.x;`);
    b.line(`if (row >= ${rows}u) { return; }`);
    const rowIdx = { shape: outShape, flat: 'row' };
    const rowCoords = em.coords(rowIdx);
    const inputIdx = (kflat: string) => inputIndex(em, r, rowCoords, kflat);
    // Rows of at most MAX_RESIDENT elements per thread are "resident": the loads are unrolled at
    // the top level of the kernel, so their values stay in registers (memoised by the emitter)
    // and later stages and row epilogues (softmax's sum and divide) reuse them instead of
    // reading the row again. Thread `lid` holds elements lid, lid + wg, ...: each load of the
    // workgroup is contiguous. A share past the row's end (a tail) loads the row's last element
    // (so every load is in bounds) and is left out of the fold and of the stores.
    // With vec4 loads, thread lid holds elements 4q .. 4q + 3 of vec4s q = lid, lid + wg, ...
    const per = Math.ceil(red / wg);
    const resident = vec4 || (red > 0 && per <= MAX_RESIDENT);
    /** One element a thread holds: its index in the row, and the condition that it is in the row (tails). */
    interface Share { at: string; guard?: string; q?: string }
    const shares: Share[] = [];
    if (vec4) {
      for (let j = 0; j < per4; j++) {
        const raw = j === 0 ? 'lid' : b.let(`lid + ${j * wg}u`, 'u32', 'q');
        const tail = (j + 1) * wg > red4;
        const q = tail ? b.let(`min(${raw}, ${red4 - 1}u)`, 'u32', 'q') : raw;
        for (let c = 0; c < 4; c++) shares.push({ at: b.let(`${q} * 4u + ${c}u`, 'u32', 'k'), guard: tail ? `${raw} < ${red4}u` : undefined, q });
      }
      // Element k of a row is at row * red + k; of a param, at k (the same for every row).
      for (const { v, kind } of leaves) {
        const buf = k.storageVec4(env.buffer(v), 'read');
        for (let j = 0; j < per4; j++) {
          const x = b.let(`${buf}[${kind === 'row' ? `row * ${red4}u + ` : ''}${shares[4 * j].q}]`, 'vec4<f32>', 'x');
          for (let c = 0; c < 4; c++) {
            const at = shares[4 * j + c].at;
            const idx = kind === 'row' ? inputIdx(at) : { shape: redShape, coords: em.coords({ shape: redShape, flat: at }) };
            em.seed(v, idx, `${x}.${'xyzw'[c]}`);
          }
        }
      }
    } else if (resident) {
      for (let j = 0; j < per; j++) {
        const raw = j === 0 ? 'lid' : b.let(`lid + ${j * wg}u`, 'u32', 'k');
        const tail = (j + 1) * wg > red;
        shares.push({ at: tail ? b.let(`min(${raw}, ${red - 1}u)`, 'u32', 'k') : raw, guard: tail ? `${raw} < ${red}u` : undefined });
      }
    }
    // Threads holding part of the row: the others are left out when partials are combined.
    const active = Math.min(wg, vec4 ? red4 : red);
    const stage = (s: Operation<Op.Reduce>, si: number): string[] => {
      const n = s.results.length;
      const inputs = s.operands.slice(0, n);
      const types = typesOf(s);
      const sub = subs[si];
      const sh = (i: number) => `sh${si}_${i}`;
      const toSlot = (v: string, i: number) => (types[i] === 'bool' ? `select(0u, 1u, ${v})` : v);
      const fromSlot = (v: string, i: number) => (types[i] === 'bool' ? `(${v} != 0u)` : v);
      const initVals = s.operands.slice(n).map((v) => em.value(v, SCALAR_IDX));
      const acc = types.map((ty, i) => b.var(ty, initVals[i], 'acc'));
      if (resident) {
        const xs = shares.map((sh2) => inputs.map((v) => em.value(v, inputIdx(sh2.at))));
        // Threads past a short row's end (lid >= active) are left out when the partials are combined.
        inputs.forEach((_, i) => b.line(`${acc[i]} = ${xs[0][i]};`));
        shares.forEach((sh2, j) => {
          if (j === 0) return;
          const r = emitCombiner(em, s as AnyOperation, acc, xs[j]);
          r.forEach((y, i) => b.line(sh2.guard ? `${acc[i]} = select(${acc[i]}, ${y}, ${sh2.guard});` : `${acc[i]} = ${y};`));
        });
      } else if (red > 0) {
        b.block(`if (lid < ${red}u)`, () => {
          em.scoped(() => {
            const idx = inputIdx('lid');
            inputs.forEach((v, i) => b.line(`${acc[i]} = ${em.value(v, idx)};`));
          });
          // Four strided elements per step: their loads are independent, so four are in flight
          // per thread (the combines stay in order, so results match the one-at-a-time loop).
          const fold = (at: string[]) => em.scoped(() => {
            const xs = at.map((kk) => inputs.map((v) => em.value(v, inputIdx(kk))));
            for (const x of xs) {
              const r = emitCombiner(em, s as AnyOperation, acc, x);
              r.forEach((y, i) => b.line(`${acc[i]} = ${y};`));
            }
          });
          b.line(`var kk = lid + ${wg}u;`);
          if (red > 4 * wg) {
            b.block(`for (; kk + ${3 * wg}u < ${red}u; kk = kk + ${4 * wg}u)`, () => {
              fold(['kk', ...[1, 2, 3].map((j) => b.let(`kk + ${j * wg}u`, 'u32', 'k'))]);
            });
          }
          b.block(`for (; kk < ${red}u; kk = kk + ${wg}u)`, () => fold(['kk']));
        });
      }
      let totals: string[] = [];
      if (sub) {
        const slots = Math.max(1, Math.floor(wg / 4));
        // Threads past the row's end hold the init value, which is folded in once at the end, so
        // they contribute the identity instead. The subgroups of a one-dimensional workgroup are
        // consecutive runs of local_invocation_index (as on every Vulkan, Metal and D3D12 driver).
        const v = active < wg ? b.let(`select(${sub.identity}, ${acc[0]}, lid < ${active}u)`, types[0], 'v') : acc[0];
        // NaN propagates (as k_fmax / k_fmin do); the subgroup max of a NaN is left to the driver.
        const across = (x: string) => {
          const r = b.let(`${sub.fn}(${x})`, types[0], 'sg');
          return sub.nan ? b.let(`select(${r}, k_fbits(0x7fc00000u), subgroupAny((bitcast<u32>(${x}) & 0x7fffffffu) > 0x7f800000u))`, types[0], 'sg') : r;
        };
        const r = across(v);
        b.line(`if (sgi == 0u) { ${sh(0)}[lid / sgn] = ${r}; }`);
        b.line('workgroupBarrier();');
        // The per-subgroup partials are combined by subgroups again, a subgroup's width at a time
        // (one step where wg <= size^2, e.g. 32 x 32 on NVIDIA), so every thread gets the total
        // and rounding grows with log(wg), as in the tree.
        const tot = b.var(types[0], sub.identity, 'tot');
        b.block(`for (var j = 0u; j < (${wg}u + sgn - 1u) / sgn; j = j + sgn)`, () => {
          em.scoped(() => {
            const at = b.let('j + sgi', 'u32');
            const x = b.let(`select(${sub.identity}, ${sh(0)}[min(${at}, ${slots - 1}u)], ${at} < (${wg}u + sgn - 1u) / sgn)`, types[0]);
            b.line(`${tot} = ${emitCombiner(em, s as AnyOperation, [tot], [across(x)])[0]};`);
          });
        });
        totals = [tot];
      } else if (red > 0) {
        acc.forEach((a, i) => b.line(`${sh(i)}[lid] = ${toSlot(a, i)};`));
        b.line('workgroupBarrier();');
        if (wg > 1) b.block(`for (var s = ${wg / 2}u; s > 0u; s = s >> 1u)`, () => {
          b.block(`if (lid < s && lid + s < ${active}u)`, () => {
            em.scoped(() => {
              const l = types.map((_, i) => b.let(fromSlot(`${sh(i)}[lid]`, i)));
              const rr = types.map((_, i) => b.let(fromSlot(`${sh(i)}[lid + s]`, i)));
              const r = emitCombiner(em, s as AnyOperation, l, rr);
              r.forEach((x, i) => b.line(`${sh(i)}[lid] = ${toSlot(x, i)};`));
            });
          });
          b.line('workgroupBarrier();');
        });
        totals = types.map((_, i) => b.let(fromSlot(`${sh(i)}[0]`, i), undefined, 'tot'));
      }
      const res = red > 0 ? emitCombiner(em, s as AnyOperation, initVals, totals) : initVals;
      // Later stages and the epilogues read the results at their own row: from registers.
      s.results.forEach((r, i) => em.regs.set(r, res[i]));
      return res;
    };
    const res = all.flatMap((s, si) => stage(s, si));
    const results = all.flatMap((s) => s.results);
    // Per-row epilogues are computed by every thread, so that row epilogues read them from
    // registers (logsumexp, then x minus it); the row's first thread stores them.
    const outs = epilogues.filter((e) => e.mode === 'out');
    const outVals = outs.map((e) => {
      const val = em.computeTop(e.value, { shape: e.value.type.shape, flat: 'row' });
      // Later epilogues read this one only at their own row (fusion.ts): from the register.
      em.regs.set(e.value, val);
      return val;
    });
    if (outs.length || write.some((w) => w)) {
      b.block('if (lid == 0u)', () => {
        results.forEach((r, i) => {
          if (!write[i]) return;
          const d = dtypeOf(r);
          em.store(d, k.storage(env.buffer(r), d, 'read_write'), 'row', res[i]);
        });
        outs.forEach((e, j) => {
          const d = dtypeOf(e.value);
          em.store(d, k.storage(env.buffer(e.value), d, 'read_write'), 'row', outVals[j]);
        });
      });
    }
    if (rowEps.length && resident) {
      // Fresh index objects: the memo keys of the first pass are by coordinates, and an index
      // whose flat form is already known would key by that instead.
      const valsOf = (sh2: Share) => {
        const vals = rowEps.map((e) => {
          const val = em.computeTop(e.value, inputIdx(sh2.at));
          em.regs.set(e.value, val);
          return val;
        });
        for (const e of rowEps) em.regs.delete(e.value);
        return vals;
      };
      const guarded = (guard: string | undefined, f: () => void) => (guard ? b.block(`if (${guard})`, f) : f());
      if (vec4) {
        for (let j = 0; j < per4; j++) {
          const four = shares.slice(4 * j, 4 * j + 4);
          const vals = four.map(valsOf);
          const flats = rowEps.some((e) => e.value.type.dtype !== 'f32') ? four.map((sh2) => em.flat(inputIdx(sh2.at))) : [];
          guarded(four[0].guard, () => rowEps.forEach((e, i) => {
            const d = dtypeOf(e.value);
            if (d === 'f32') {
              b.line(`${k.storageVec4(env.buffer(e.value), 'read_write')}[row * ${red4}u + ${four[0].q}] = vec4<f32>(${vals.map((v) => v[i]).join(', ')});`);
              return;
            }
            four.forEach((_, c) => em.store(d, k.storage(env.buffer(e.value), d, 'read_write'), flats[c], vals[c][i]));
          }));
        }
      } else {
        for (const sh2 of shares) {
          const vals = valsOf(sh2);
          const flat = em.flat(inputIdx(sh2.at));
          guarded(sh2.guard, () => rowEps.forEach((e, j) => {
            const d = dtypeOf(e.value);
            em.store(d, k.storage(env.buffer(e.value), d, 'read_write'), flat, vals[j]);
          }));
        }
      }
    } else if (rowEps.length && red > 0) {
      b.block(`for (var kk = lid; kk < ${red}u; kk = kk + ${wg}u)`, () => {
        em.scoped(() => {
          const idx = inputIdx('kk');
          const flat = em.flat(idx);
          for (const e of rowEps) {
            const d = dtypeOf(e.value);
            const val = em.computeTop(e.value, idx);
            em.store(d, k.storage(env.buffer(e.value), d, 'read_write'), flat, val);
            em.regs.set(e.value, val);
          }
          for (const e of rowEps) em.regs.delete(e.value);
        });
      });
    }
    results.forEach((r) => em.regs.delete(r));
    for (const e of outs) em.regs.delete(e.value);
  });
  if (vec4 && k.storageBindings > t.maxStorageBuffers) return 'scalar';
  return k.finish(name, dispatchFor(rows * wg, wg, t));
}
