/**
 * @file Fusion: decides which values of a block live in memory and groups the rest into kernels.
 *
 * Policy (what a reader needs to predict kernel counts):
 * - Elementwise and data-movement ops (and splat constants) are never kernels of their own: they
 *   are inlined into every consumer by index rewriting (`codegen/expr.ts`). A value with several
 *   consumers is recomputed in each; within one kernel it is computed once per index.
 * - A value is materialised (written to memory, and then read by its consumers) when it is a
 *   block result, an operand of an op that reads memory (gather, sort, while, ...), captured by
 *   a region, or an operand of a `dot_general` whose inlined cost would be paid once per tile
 *   re-load (more than {@link DOT_OPERAND_COST} ops), that is computed from another product's
 *   result (it rides as that product's epilogue), or that reshapes across a transpose (no
 *   strided view). Views over such an operand stay inlined: the matmul reads them as strides.
 * - `reduce` and `dot_general` are kernel roots. A materialised value whose last in-memory input
 *   is such a root, and which reads the root only at "its own" element (the same output element
 *   of a matmul, or that element moved by a transpose or by unit dimensions; the same row of a
 *   reduction, broadcast back over the row or not), becomes an epilogue of the root's kernel:
 *   softmax's sum-reduce kernel divides in its epilogue; an MLP layer
 *   (matmul + bias + relu) is one kernel; JAX's weight gradient `transpose(dot_general(..))` is
 *   one matmul kernel storing each element at its transposed place.
 * - A reduction over the same rows as an earlier one, whose last input is that reduction's result
 *   read at its own row (broadcast back over the row), is a stage of the earlier one's kernel:
 *   the kernel reads each row once and reduces it again from registers. Softmax (max, then sum
 *   of exp(x - max), then divide), log-softmax, logsumexp and layer norm (mean, variance,
 *   normalise) are one kernel each.
 * - A materialised value whose last input is a value some kernel computes (an epilogue or a loop
 *   kernel's output), read at its own element, joins that kernel and reads it from registers: an
 *   optimizer's new parameter, computed from the new moments it also returns, is one kernel.
 * - Other materialised values get loop kernels; loop kernels of the same shape whose inputs are
 *   all ready merge into one multi-output kernel.
 * - No kernel binds more storage buffers than the target allows: a value whose inlined expression
 *   reads more buffers than that gets its widest inlined operands materialised first, and a value
 *   that would overflow a merged kernel goes to a kernel of its own.
 */
import { ELEMENTWISE, familyRows, Op } from '../ir/ops.js';
import { sameShape, type AnyOperation, type Block, type Operation, type Value } from '../ir/types.js';

/** How the compiler treats each op. Typed over every op so a new op must be classified. */
export type NodeKind = 'elementwise' | 'movement' | 'reduce' | 'contraction' | 'indexed' | 'control' | 'structural';

export const KIND: { [K in Op]: NodeKind } = {
  ...familyRows(ELEMENTWISE, 'elementwise' as const),
  [Op.Constant]: 'movement', [Op.Iota]: 'movement', [Op.BroadcastInDim]: 'movement', [Op.Reshape]: 'movement',
  [Op.Transpose]: 'movement', [Op.Slice]: 'movement', [Op.DynamicSlice]: 'movement', [Op.Concatenate]: 'movement',
  [Op.Pad]: 'movement', [Op.Reverse]: 'movement',
  [Op.DynamicUpdateSlice]: 'indexed', [Op.Gather]: 'indexed', [Op.Scatter]: 'indexed',
  [Op.ReduceWindow]: 'indexed', [Op.SelectAndScatter]: 'indexed', [Op.Convolution]: 'indexed',
  [Op.Sort]: 'indexed', [Op.TopK]: 'indexed', [Op.Fft]: 'indexed',
  [Op.Cholesky]: 'indexed', [Op.TriangularSolve]: 'indexed', [Op.CustomCall]: 'indexed',
  [Op.Reduce]: 'reduce',
  [Op.DotGeneral]: 'contraction',
  [Op.While]: 'control', [Op.If]: 'control', [Op.Case]: 'control',
  [Op.Call]: 'structural', [Op.Return]: 'structural', [Op.FuncReturn]: 'structural',
  [Op.OptimizationBarrier]: 'structural',
  // Expanded into other ops before fusion (compile() refuses any left).
  [Op.RngBitGenerator]: 'structural', [Op.BatchNormTraining]: 'structural', [Op.BatchNormInference]: 'structural',
  [Op.BatchNormGrad]: 'structural', [Op.Scan]: 'structural',
};

/** Inlined ops a matmul operand may carry before it is materialised instead. */
export const DOT_OPERAND_COST = 6;
/** Most outputs one merged loop kernel writes. */
const MAX_LOOP_OUTPUTS = 4;

/** How an epilogue value is laid out against its root: per reduced row, per row of the reduce's input, or per matmul element. */
export type EpilogueMode = 'out' | 'row' | 'elem';
export interface Epilogue {
  value: Value;
  mode: EpilogueMode;
  /**
   * Mode 'elem' only, for a value laid out otherwise than the matmul's result (its transpose, or
   * unit dimensions added or dropped): for each dimension of the value, the result dimension
   * whose coordinate it takes (null: a unit dimension, at 0). Absent: the result's own layout.
   */
  at?: (number | null)[];
}

export type Group =
  | { kind: 'loop'; pos: number; outputs: Value[] }
  | {
    kind: 'reduce'; pos: number; op: Operation<Op.Reduce>;
    /**
     * Later reductions over the same rows, computed by the same kernel after `op` from the row it
     * already holds (softmax's sum of exp(x - max), layer norm's variance): see {@link stageFor}.
     */
    stages: Operation<Op.Reduce>[];
    epilogues: Epilogue[];
    /** Per result of `op`, then of each stage in order: whether the kernel stores it. */
    write: boolean[];
  }
  | { kind: 'dot'; pos: number; op: Operation<Op.DotGeneral>; epilogues: Epilogue[]; write: boolean }
  | { kind: 'indexed'; pos: number; op: AnyOperation }
  | { kind: 'control'; pos: number; op: AnyOperation }
  | { kind: 'barrier'; pos: number; op: AnyOperation };

export interface FusionPlan {
  groups: Group[];
  /** Values read from memory by their consumers (block arguments and captures included). */
  buffered: Set<Value>;
  producer: Map<Value, { op: AnyOperation; result: number }>;
  /** The values the block's terminator returns. */
  results: Value[];
}

function freeValuesOf(o: Operation, out: Set<Value>): void {
  const defined = new Set<Value>();
  const visit = (b: Block) => {
    for (const a of b.args) defined.add(a);
    for (const op of b.ops) {
      for (const x of op.operands) if (!defined.has(x)) out.add(x);
      for (const r of op.regions) visit(r.block);
      for (const r of op.results) defined.add(r);
    }
  };
  for (const r of o.regions) visit(r.block);
}

/** Movement ops a matmul reads through as strides (codegen/strided.ts). */
const VIEWS: ReadonlySet<Op> = new Set([Op.Reshape, Op.Transpose, Op.BroadcastInDim]);

/** Plans the kernels of one block. `limitStorage` bounds the inputs a merged loop kernel may bind. */
export function planFusion(block: Block, limitStorage: number): FusionPlan {
  const producer = new Map<Value, { op: AnyOperation; result: number }>();
  const pos = new Map<Value, number>();
  const ops = block.ops as AnyOperation[];
  ops.forEach((o, i) => o.results.forEach((r, j) => { producer.set(r, { op: o, result: j }); pos.set(r, i); }));
  const posOf = (v: Value) => pos.get(v) ?? -1;
  const term = ops[ops.length - 1];
  const results = term && (term.op === Op.Return || term.op === Op.FuncReturn) ? term.operands : [];

  // Values in memory: anything not defined by an inlinable op of this block.
  const buffered = new Set<Value>();
  const inlinable = (v: Value) => {
    const p = producer.get(v);
    if (!p) return false;
    const k = KIND[p.op.op];
    if (k === 'elementwise') return true;
    if (k !== 'movement') return false;
    if (p.op.op === Op.Constant) {
      const lit = (p.op as Operation<Op.Constant>).attrs.value;
      return lit.splat || lit.data.length === 1;
    }
    return true;
  };
  const isBuffered = (v: Value) => buffered.has(v) || !inlinable(v);

  // Values that must exist in memory as a whole.
  const required = new Set<Value>(results);
  for (const o of ops) {
    const k = KIND[o.op];
    if (k === 'indexed' || k === 'control' || o.op === Op.OptimizationBarrier) for (const x of o.operands) required.add(x);
    if (o.regions.length && k !== 'reduce') freeValuesOf(o, required);
  }
  const cost = new Map<Value, number>();
  const costOf = (v: Value): number => {
    if (isBuffered(v)) return 0;
    let c = cost.get(v);
    if (c !== undefined) return c;
    const p = producer.get(v)!;
    c = (KIND[p.op.op] === 'elementwise' ? 1 : 0) + p.op.operands.reduce((s, x) => s + costOf(x), 0);
    cost.set(v, c);
    return c;
  };
  // A costly operand behind views (a split-K reshape, a transpose) is materialised before the
  // views, which the matmul then reads as strides: the value can stay another kernel's epilogue.
  const underViews = (v: Value): Value => {
    let x = v;
    for (let p = producer.get(x); p && VIEWS.has(p.op.op); p = producer.get(x)) x = p.op.operands[0];
    return x;
  };
  // A reshape that merges dimensions a transpose separated (attention's head merge, [b, h, t, d]
  // -> [b, t, h * d]) is no strided view: the matmul would read it element by element. It is
  // materialised instead, as the producing kernel's epilogue where it can be.
  const mergesTransposed = (v: Value): boolean => {
    const p = producer.get(v);
    if (!p || p.op.op !== Op.Reshape || p.op.results[0].type.shape.length >= p.op.operands[0].type.shape.length) return false;
    const q = producer.get(p.op.operands[0]);
    return q !== undefined && q.op.op === Op.Transpose;
  };
  // An operand computed from another product's or reduction's result (an MLP's relu(x @ w1 + b1)
  // feeding the next layer; a split product's sum) is materialised too: it becomes that kernel's
  // epilogue, and this product reads it as a plain matrix (16-byte loads) instead of recomputing
  // it element by element in its tile loads.
  const readsMemo = new Map<Value, boolean>();
  const readsProduct = (v: Value): boolean => {
    let r = readsMemo.get(v);
    if (r !== undefined) return r;
    const p = producer.get(v);
    r = p !== undefined && (p.op.op === Op.DotGeneral || p.op.op === Op.Reduce || (inlinable(v) && p.op.operands.some(readsProduct)));
    readsMemo.set(v, r);
    return r;
  };
  for (const o of ops) {
    if (o.op !== Op.DotGeneral) continue;
    for (const x of o.operands) {
      // A merged view first: materialised as a whole, it is a plain matrix whatever it reads.
      if (mergesTransposed(x)) required.add(x);
      else if (costOf(x) > DOT_OPERAND_COST || (costOf(x) > 0 && readsProduct(x))) required.add(underViews(x));
    }
  }
  for (const v of producer.keys()) if (!inlinable(v)) buffered.add(v);
  for (const v of required) buffered.add(v);
  // Arguments and values captured from enclosing blocks are in memory already.
  for (const a of block.args) buffered.add(a);
  for (const o of ops) for (const x of o.operands) if (!producer.has(x)) buffered.add(x);

  // deps(v): the in-memory values computing v at some index reads.
  const depsMemo = new Map<Value, Set<Value>>();
  const inputsOf = (v: Value): Set<Value> => {
    const p = producer.get(v);
    const s = new Set<Value>();
    if (!p) return s;
    for (const x of p.op.operands) for (const d of deps(x)) s.add(d);
    return s;
  };
  const deps = (v: Value): Set<Value> => {
    if (buffered.has(v)) return new Set([v]);
    let s = depsMemo.get(v);
    if (!s) { s = inputsOf(v); depsMemo.set(v, s); }
    return s;
  };

  // No kernel may bind more buffers than the target allows, however wide one value's inlined
  // expression is (a sum of 20 inputs, a training step's long select chain): before grouping,
  // a value reading too many buffers gets its widest inlined operands materialised, in program
  // order so that each operand is already narrow; a reduce or matmul root likewise.
  const materialise = (x: Value) => { buffered.add(x); depsMemo.clear(); };
  const widestInlined = (xs: readonly Value[]): Value | undefined => {
    let widest: Value | undefined;
    for (const x of xs) if (!buffered.has(x) && inlinable(x) && (!widest || deps(x).size > deps(widest).size)) widest = x;
    return widest;
  };
  const narrow = (operands: readonly Value[], outputs: number) => {
    const reads = () => new Set(operands.flatMap((x) => [...deps(x)])).size;
    for (let x: Value | undefined; reads() + outputs > limitStorage && (x = widestInlined(operands));) materialise(x);
  };
  for (const o of ops) {
    if (o.results.some((r) => inlinable(r))) narrow(o.operands, 1);
    if (KIND[o.op] === 'reduce' || KIND[o.op] === 'contraction') narrow(o.operands, o.results.length);
  }

  // Root groups.
  const groups: Group[] = [];
  const rootGroup = new Map<AnyOperation, Group>();
  ops.forEach((o, i) => {
    let g: Group | undefined;
    switch (KIND[o.op]) {
      case 'reduce': g = { kind: 'reduce', pos: i, op: o as Operation<Op.Reduce>, stages: [], epilogues: [], write: o.results.map(() => false) }; break;
      case 'contraction': g = { kind: 'dot', pos: i, op: o as Operation<Op.DotGeneral>, epilogues: [], write: false }; break;
      case 'indexed': g = { kind: 'indexed', pos: i, op: o }; break;
      case 'control': g = { kind: 'control', pos: i, op: o }; break;
      case 'structural': if (o.op === Op.OptimizationBarrier) g = { kind: 'barrier', pos: i, op: o }; break;
      default: break;
    }
    if (g) { groups.push(g); rootGroup.set(o, g); }
  });

  // Materialised inlinable values: epilogue of the kernel computing their last input, a value
  // of a loop kernel, or a loop kernel of their own.
  const loops: (Group & { kind: 'loop' })[] = [];
  const groupOf = new Map<Value, Group>();
  // Constants needed in memory are constant buffers (see compile.ts), not kernels.
  const mats = [...buffered].filter((v) => inlinable(v) && producer.get(v)!.op.op !== Op.Constant)
    .sort((a, b) => posOf(a) - posOf(b));
  // Who reads each value from memory, unless it ends up in the same kernel: materialised values
  // and the ops that are kernels (or steps) of their own.
  const readers = new Map<Value, (Value | AnyOperation)[]>();
  const addReader = (d: Value, r: Value | AnyOperation) => {
    const rs = readers.get(d);
    if (rs) rs.push(r); else readers.set(d, [r]);
  };
  for (const v of mats) for (const d of inputsOf(v)) addReader(d, v);
  for (const o of ops) {
    if (rootGroup.has(o)) for (const x of o.operands) for (const d of deps(x)) addReader(d, o);
    if (o.regions.length && KIND[o.op] !== 'reduce') { const f = new Set<Value>(); freeValuesOf(o, f); for (const d of f) addReader(d, o); }
  }
  /**
   * Storage buffers the kernel of root group `g` binds at most with `v` as one more epilogue, or
   * with `s` as one more reduction stage.
   */
  const rootBindings = (g: Group & { kind: 'reduce' | 'dot' }, v?: Value, s?: Operation<Op.Reduce>): number => {
    const eps = [...g.epilogues.map((e) => e.value), ...(v ? [v] : [])];
    const roots: AnyOperation[] = [g.op, ...(g.kind === 'reduce' ? g.stages : []), ...(s ? [s] : [])];
    const held = new Set<Value | AnyOperation>([...roots, ...roots.flatMap((o) => o.results), ...eps]);
    const operandReads = new Set<Value>(roots.flatMap((o) => o.operands.flatMap((x) => [...deps(x)])).filter((d) => !held.has(d)));
    const reads = new Set<Value>(operandReads);
    // The matmul loads operands as vec4 tiles: an epilogue reading one binds it a second time.
    const views = new Set<Value>();
    for (const d of eps.flatMap((e) => [...inputsOf(e)])) {
      if (held.has(d)) continue;
      if (g.kind === 'dot' && operandReads.has(d)) views.add(d);
      reads.add(d);
    }
    const written = roots.flatMap((o) => o.results).filter((r) => results.includes(r) || (readers.get(r) ?? []).some((x) => !held.has(x)));
    return reads.size + views.size + written.length + eps.length;
  };
  // In program order, so that a reduction joins its row's kernel after the epilogues it may not read.
  const reduces = ops.filter((o): o is Operation<Op.Reduce> => o.op === Op.Reduce);
  const order: (Value | Operation<Op.Reduce>)[] = [...mats, ...reduces]
    .sort((a, b) => ('op' in a ? ops.indexOf(a as AnyOperation) : posOf(a)) - ('op' in b ? ops.indexOf(b as AnyOperation) : posOf(b)));
  for (const item of order) {
    if ('op' in item) {
      const o = item as Operation<Op.Reduce>;
      const g = stageFor(o, rootGroup, groupOf, producer, buffered, deps, posOf);
      if (g && rootBindings(g, undefined, o) <= limitStorage) {
        g.stages.push(o);
        g.write.push(...o.results.map(() => false));
        groups.splice(groups.indexOf(rootGroup.get(o)!), 1);
        rootGroup.set(o, g);
      }
      continue;
    }
    const v = item;
    const ds = inputsOf(v);
    let last: Value | undefined;
    for (const d of ds) if (!last || posOf(d) > posOf(last)) last = d;
    const root = last && producer.get(last);
    const g = last && (groupOf.get(last) ?? (root && rootGroup.get(root.op)));
    if (g && (g.kind === 'reduce' || g.kind === 'dot')) {
      const held = new Set<Value>([...rootResults(g), ...g.epilogues.map((e) => e.value)]);
      // Every other input must be in memory before the root's kernel runs.
      const ready = [...ds].every((d) => held.has(d) || posOf(d) < g.pos);
      const e = ready ? epilogueFor(v, g, producer, buffered) : undefined;
      if (e && rootBindings(g, v) <= limitStorage) {
        g.epilogues.push(e);
        groupOf.set(v, g);
        continue;
      }
    }
    const p = posOf(v);
    const target = loops.find((l) => {
      if (l.outputs.length >= MAX_LOOP_OUTPUTS || !sameShape(l.outputs[0].type.shape, v.type.shape)) return false;
      const own = new Set(l.outputs);
      if (![...ds].every((d) => own.has(d) || posOf(d) < l.pos)) return false;
      if ([...ds].some((d) => own.has(d)) && !traceReads(v, own, producer, buffered, ownElement)) return false;
      const ins = new Set([...l.outputs.flatMap((o) => [...inputsOf(o)]), ...ds].filter((d) => !own.has(d)));
      return ins.size + l.outputs.length + 1 <= limitStorage;
    });
    if (target) {
      target.outputs.push(v);
      groupOf.set(v, target);
    } else {
      const l = { kind: 'loop' as const, pos: p, outputs: [v] };
      loops.push(l);
      groups.push(l);
      groupOf.set(v, l);
    }
  }

  // Root results that someone reads from memory must be written by their kernel.
  const readsOf = (g: Group): Set<Value> => {
    const s = new Set<Value>();
    const add = (xs: Iterable<Value>) => { for (const x of xs) s.add(x); };
    switch (g.kind) {
      case 'loop': for (const v of g.outputs) add(inputsOf(v)); break;
      case 'reduce': case 'dot':
        for (const o of rootOps(g)) for (const x of o.operands) add(deps(x));
        for (const e of g.epilogues) add(inputsOf(e.value));
        for (const r of rootResults(g)) s.delete(r);
        break;
      case 'indexed': case 'control': case 'barrier':
        add(g.op.operands);
        if (g.op.regions.length) { const f = new Set<Value>(); freeValuesOf(g.op, f); add(f); }
        break;
      default: g satisfies never;
    }
    return s;
  };
  const read = new Set<Value>(results);
  for (const g of groups) for (const v of readsOf(g)) read.add(v);
  for (const g of groups) {
    if (g.kind === 'reduce') g.write = rootResults(g).map((r) => read.has(r));
    if (g.kind === 'dot') g.write = read.has(g.op.results[0]);
  }
  groups.sort((a, b) => a.pos - b.pos);
  return { groups, buffered, producer, results };
}

/**
 * For each dimension of a value read inside a fused computation, the dimension of the computed
 * value whose coordinate it is read at: 'z' for a unit dimension (read at 0), null when the
 * coordinate is not one of the computed value's (a slice, a gather, ...).
 */
type CoordMap = (number | 'z' | null)[];

/** Whether `x` is read at the consumer's own element: same coordinates, unit dimensions aside. */
function ownElement(x: Value, cm: CoordMap): boolean {
  return x.type.shape.every((d, j) => d === 1 || cm[j] === j);
}

/** Whether `x` is read at the element of the consumer `v` that has the same coordinates once unit dimensions are dropped. */
function ownSqueezed(v: Value, x: Value, cm: CoordMap): boolean {
  const vNon1 = v.type.shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const xNon1 = x.type.shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  return xNon1.length === vNon1.length && xNon1.every((j, t) => cm[j] === vNon1[t]);
}

/**
 * Follows the inlined computation of `v` from its own coordinates down to the values in
 * `anchors` (those its kernel holds in registers) and asks `onRead` about each read of one, with
 * the coordinate map of that read. Other values in memory are plain loads and always fine.
 * False as soon as `onRead` refuses a read.
 */
function traceReads(
  v: Value,
  anchors: ReadonlySet<Value>,
  producer: Map<Value, { op: AnyOperation; result: number }>,
  buffered: Set<Value>,
  onRead: (x: Value, cm: CoordMap) => boolean,
): boolean {
  const seen = new Set<string>();
  const ids = new Map<Value, number>();
  const ok = (x: Value, cm: CoordMap): boolean => {
    if (anchors.has(x) && x !== v) return onRead(x, cm);
    if (buffered.has(x) && x !== v) return true;
    const p = producer.get(x);
    if (!p) return true;
    let xid = ids.get(x);
    if (xid === undefined) { xid = ids.size; ids.set(x, xid); }
    const memoKey = `${xid}|${cm.join(',')}`;
    if (seen.has(memoKey)) return true;
    seen.add(memoKey);
    const o = p.op;
    const unknown = (y: Value): CoordMap => y.type.shape.map((d) => (d === 1 ? 'z' : null));
    switch (KIND[o.op]) {
      case 'elementwise':
        return o.operands.every((y) => ok(y, y.type.shape.length === 0 ? [] : cm));
      case 'movement':
        switch (o.op) {
          case Op.Constant: case Op.Iota: return true;
          case Op.BroadcastInDim: {
            const y = o.operands[0];
            return ok(y, y.type.shape.map((d, i) => (d === 1 ? 'z' : cm[o.attrs.dims[i]])));
          }
          case Op.Transpose: {
            const y = o.operands[0];
            const ym: CoordMap = new Array(cm.length);
            o.attrs.permutation.forEach((p2, i) => { ym[p2] = cm[i]; });
            return ok(y, ym);
          }
          case Op.Reshape: {
            const y = o.operands[0];
            const xs = x.type.shape.map((d, i) => [d, i]).filter(([d]) => d !== 1);
            const ys = y.type.shape.map((d, i) => [d, i]).filter(([d]) => d !== 1);
            if (xs.length === ys.length && xs.every(([d], t) => d === ys[t][0])) {
              const ym: CoordMap = y.type.shape.map((d) => (d === 1 ? 'z' : null));
              ys.forEach(([, yi], t) => { ym[yi] = cm[xs[t][1]]; });
              return ok(y, ym);
            }
            return ok(y, unknown(y));
          }
          default:
            return o.operands.every((y) => ok(y, unknown(y)));
        }
      default:
        return true;
    }
  };
  return ok(v, v.type.shape.map((_, i) => i));
}

/**
 * `v` as an epilogue of root group `g` when every read of the root's results and of the group's
 * earlier epilogues is at the element (or row) `v` itself is computed for, else undefined. A
 * matmul epilogue may be laid out as any permutation of the result's non-unit dimensions, as
 * long as all its reads agree on it (each element of `v` is then computed from exactly one
 * result element, by the thread holding it).
 */
export function epilogueFor(
  v: Value,
  g: Group & { kind: 'reduce' | 'dot' },
  producer: Map<Value, { op: AnyOperation; result: number }>,
  buffered: Set<Value>,
): Epilogue | undefined {
  const members = new Map(g.epilogues.map((e) => [e.value, e]));
  const anchors = new Set<Value>([...rootResults(g), ...members.keys()]);
  const r0 = g.op.results[0];
  if (g.kind === 'dot') {
    const rs = r0.type.shape;
    // For each result dimension, the dimension of v whose coordinate selects it.
    let found: CoordMap | undefined;
    const agree = (x: Value, cm: CoordMap): boolean => {
      const m: CoordMap = rs.map(() => 'z');
      const at = members.get(x)?.at ?? x.type.shape.map((_, i) => i);
      at.forEach((k, i) => { if (k !== null) m[k] = cm[i]; });
      if (rs.some((d, k) => d !== 1 && typeof m[k] !== 'number')) return false;
      const key = m.map((c, k) => (rs[k] === 1 ? 'z' : c));
      if (!found) found = key;
      return key.every((c, k) => c === found![k]);
    };
    if (!traceReads(v, anchors, producer, buffered, agree) || !found) return undefined;
    const at: (number | null)[] = v.type.shape.map(() => null);
    for (let k = 0; k < rs.length; k++) {
      if (rs[k] === 1) continue;
      const i = found[k] as number;
      if (at[i] !== null || v.type.shape[i] !== rs[k]) return undefined;
      at[i] = k;
    }
    if (v.type.shape.some((d, i) => d !== 1 && at[i] === null)) return undefined;
    const same = sameShape(v.type.shape, rs) && at.every((k, i) => k === null || k === i);
    return same ? { value: v, mode: 'elem' } : { value: v, mode: 'elem', at };
  }
  const inShape = g.op.operands[0].type.shape;
  const modes: EpilogueMode[] = [];
  if (sameShape(v.type.shape, inShape)) modes.push('row');
  const sq = (s: readonly number[]) => s.filter((d) => d !== 1);
  if (sameShape(sq(v.type.shape), sq(r0.type.shape))) modes.push('out');
  const keep = inShape.map((_, i) => i).filter((i) => !g.op.attrs.dims.includes(i));
  for (const mode of modes) {
    const expect = (x: Value, cm: CoordMap): boolean => {
      const member = members.get(x);
      // The kernel holds an earlier epilogue in registers where it computes it: 'out' values in
      // every thread of the row (a 'row' value may read its own row's), 'row' values per element.
      if (member?.mode === 'out' && mode === 'row') {
        const kNon1 = keep.filter((i) => inShape[i] !== 1);
        const xNon1 = x.type.shape.map((d, j) => (d === 1 ? -1 : j)).filter((j) => j >= 0);
        return xNon1.length === kNon1.length && xNon1.every((j, t) => cm[j] === kNon1[t]);
      }
      if (member) return member.mode === mode && (mode === 'row' ? ownElement(x, cm) : ownSqueezed(v, x, cm));
      if (mode === 'row') return x.type.shape.every((d, j) => d === 1 || cm[j] === keep[j]);
      return ownSqueezed(v, x, cm);
    };
    if (traceReads(v, anchors, producer, buffered, expect)) return { value: v, mode };
  }
  return undefined;
}

/** The reductions a root group's kernel computes: its root, then its stages. */
export function rootOps(g: Group & { kind: 'reduce' | 'dot' }): AnyOperation[] {
  return g.kind === 'reduce' ? [g.op, ...g.stages] : [g.op];
}

/** The results a root group's kernel holds in registers: the root's, then each stage's. */
export function rootResults(g: Group & { kind: 'reduce' | 'dot' }): Value[] {
  return rootOps(g).flatMap((o) => o.results);
}

/**
 * The reduce group that reduction `o` can join as one more stage, else undefined. `o` must
 * reduce the same rows (same input shape, same dimensions) as the group's root, its last input
 * in memory must be computed by that group, every other input must be in memory before the
 * group's kernel runs, and it may read the group's reductions only at its own row (broadcast
 * back over the row, as softmax's `exp(x - max)`): then each thread computes its share of `o`'s
 * row from the values it already holds. Epilogues of the group are not read (they are computed
 * after every stage), nor the group's results as a whole operand.
 */
function stageFor(
  o: Operation<Op.Reduce>,
  rootGroup: Map<AnyOperation, Group>,
  groupOf: Map<Value, Group>,
  producer: Map<Value, { op: AnyOperation; result: number }>,
  buffered: Set<Value>,
  deps: (v: Value) => Set<Value>,
  posOf: (v: Value) => number,
): (Group & { kind: 'reduce' }) | undefined {
  const ds = new Set(o.operands.flatMap((x) => [...deps(x)]));
  let last: Value | undefined;
  for (const d of ds) if (!last || posOf(d) > posOf(last)) last = d;
  const root = last && producer.get(last);
  const g = last && (groupOf.get(last) ?? (root && rootGroup.get(root.op)));
  if (!g || g.kind !== 'reduce' || g === rootGroup.get(o)) return undefined;
  const n = o.results.length;
  const inShape = g.op.operands[0].type.shape;
  const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b).join(',');
  if (!sameShape(o.operands[0].type.shape, inShape) || sorted(o.attrs.dims) !== sorted(g.op.attrs.dims)) return undefined;
  const held = new Set<Value>(rootResults(g));
  if (![...ds].every((d) => held.has(d) || posOf(d) < g.pos)) return undefined;
  // Init values are read once per row at no coordinate: they may not depend on the row's values.
  if (o.operands.slice(n).some((x) => [...deps(x)].some((d) => held.has(d)))) return undefined;
  const keep = inShape.map((_, i) => i).filter((i) => !g.op.attrs.dims.includes(i));
  const atRow = (x: Value, cm: CoordMap) => x.type.shape.every((d, j) => d === 1 || cm[j] === keep[j]);
  for (const x of o.operands.slice(0, n)) {
    if (held.has(x)) return undefined;
    if (buffered.has(x)) continue;
    if (!traceReads(x, held, producer, buffered, atRow)) return undefined;
  }
  return g;
}
