/**
 * @file Strided views: a kernel operand that is a chain of fused transposes, broadcasts and
 * reshapes over a value in memory reads that value's buffer at `sum(coord[d] * stride[d])`, so a
 * kernel can load it with plain index math (and 16 bytes at a time along a unit-stride axis)
 * instead of evaluating the chain element by element. This is what the client's attention
 * lowering produces: `transpose(reshape(x))` head splits and `broadcast_in_dim` weights.
 */
import { Op } from '../../ir/ops.js';
import { stridesOf, type Operation, type Value } from '../../ir/types.js';
import type { GroupEnv } from './group.js';

/** `v` read as `root`'s buffer with per-dimension element strides (0 where `v` broadcasts). */
export interface StridedView {
  root: Value;
  strides: number[];
}

/** Whether `v` is read from memory in the kernels of `env` (a buffered value or a kernel input). */
export function inMemory(env: GroupEnv, v: Value): boolean {
  return env.plan.buffered.has(v) || !env.plan.producer.has(v);
}

/**
 * `v` as a strided view of a value in memory, looking through fused transposes, broadcasts and
 * reshapes that keep the layout affine; undefined when some step does not (for instance a
 * reshape that merges two dimensions a transpose separated).
 */
export function stridedView(env: GroupEnv, v: Value): StridedView | undefined {
  const shape = v.type.shape;
  if (shape.some((n) => n === 0)) return undefined;
  if (inMemory(env, v)) return { root: v, strides: stridesOf(shape) };
  const o = env.plan.producer.get(v)!.op;
  switch (o.op) {
    case Op.Transpose: {
      const inner = stridedView(env, o.operands[0]);
      if (!inner) return undefined;
      const perm = (o as Operation<Op.Transpose>).attrs.permutation;
      return { root: inner.root, strides: perm.map((d) => inner.strides[d]) };
    }
    case Op.BroadcastInDim: {
      const inner = stridedView(env, o.operands[0]);
      if (!inner) return undefined;
      const dims = (o as Operation<Op.BroadcastInDim>).attrs.dims;
      const inShape = o.operands[0].type.shape;
      const strides = new Array<number>(shape.length).fill(0);
      dims.forEach((d, j) => { strides[d] = inShape[j] === 1 ? 0 : inner.strides[j]; });
      return { root: inner.root, strides };
    }
    case Op.Reshape: {
      const inner = stridedView(env, o.operands[0]);
      const strides = inner && reshapeStrides(o.operands[0].type.shape, inner.strides, shape);
      return strides && { root: inner.root, strides };
    }
    default:
      return undefined;
  }
}

/**
 * Strides of a reshape's result from its operand's: dimensions are matched in groups of equal
 * size; each group of operand dimensions must be one linear run, and the result dimensions of the
 * group then split that run row-major. Size-1 dimensions take stride 0.
 */
function reshapeStrides(inShape: readonly number[], inStrides: readonly number[], outShape: readonly number[]): number[] | undefined {
  const ins = inShape.map((n, i) => ({ n, s: inStrides[i] })).filter((d) => d.n !== 1);
  const outs = outShape.map((n, j) => ({ n, j })).filter((d) => d.n !== 1);
  const result = new Array<number>(outShape.length).fill(0);
  let i = 0;
  let j = 0;
  while (i < ins.length && j < outs.length) {
    const i0 = i;
    const j0 = j;
    let pi = ins[i].n;
    let pj = outs[j].n;
    while (pi !== pj) {
      if (pi < pj) {
        if (++i >= ins.length) return undefined;
        pi *= ins[i].n;
      } else {
        if (++j >= outs.length) return undefined;
        pj *= outs[j].n;
      }
    }
    for (let k = i0; k < i; k++) if (ins[k].s !== ins[k + 1].s * ins[k + 1].n) return undefined;
    let s = ins[i].s;
    for (let k = j; k >= j0; k--) {
      result[outs[k].j] = s;
      s *= outs[k].n;
    }
    i++;
    j++;
  }
  return i === ins.length && j === outs.length ? result : undefined;
}

/**
 * The stride of a group of dimensions of a view when their flat index (row-major over `dims` in
 * order) is one linear run of memory: 0 for an empty or all-size-1 group, undefined otherwise.
 */
export function groupStride(dims: readonly number[], shape: readonly number[], strides: readonly number[]): number | undefined {
  const live = dims.filter((d) => shape[d] !== 1);
  for (let k = 0; k + 1 < live.length; k++) {
    if (strides[live[k]] !== strides[live[k + 1]] * shape[live[k + 1]]) return undefined;
  }
  return live.length === 0 ? 0 : strides[live[live.length - 1]];
}
