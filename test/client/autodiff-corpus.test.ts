/**
 * @file Reverse mode on real JAX programs: the gradient kiln derives from the corpus
 * `mlp_forward` (through a cross-entropy loss built around it) equals what JAX's own gradient
 * program `mlp_grad` computes on the same inputs; and the corpus loop and cumsum programs
 * differentiate to what finite differences give.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Op } from '../../ir/ops.js';
import { parseModule } from '../../ir/parse/parser.js';
import { mainFunc, tensorType, type Module, type Value } from '../../ir/types.js';
import { GraphBuilder } from '../../client/builder.js';
import { Emitter } from '../../client/autodiff/emit.js';
import { valueAndGradModule } from '../../client/autodiff/vjp.js';
import { fromJson, type JsonTensor, narrowData } from '../../runtime/tensor.js';
import { finiteDifferences, mismatch, run, weightedLoss } from './autodiff-helpers.js';
import { pathToFileURL } from 'node:url';
import { CORPUS_DIR } from '../helpers/corpus.js';

const corpus = pathToFileURL(`${CORPUS_DIR}/`);
const load = (name: string) => ({
  module: parseModule(readFileSync(new URL(`${name}.mlir`, corpus), 'utf8'), `${name}.mlir`),
  io: JSON.parse(readFileSync(new URL(`${name}.json`, corpus), 'utf8')) as { inputs: JsonTensor[]; outputs: JsonTensor[] },
});

/**
 * `mlp_grad`'s program is `grad(lambda W1, b1, W2, b2, x, y: -mean(take_along_axis(log_softmax(
 * mlp(x, W1, b1, W2, b2)), y)))`: arguments (W1, b1, W2, b2, x, labels). This wraps
 * `mlp_forward` (arguments x, W1, b1, W2, b2) in that loss, so that kiln differentiates it.
 */
function crossEntropyAround(forward: Module): Module {
  const f = mainFunc(forward);
  const b = new GraphBuilder();
  const e = new Emitter(b);
  const [xT, w1T, b1T, w2T, b2T] = f.args.map((a) => a.type);
  const args: Value[] = [w1T, b1T, w2T, b2T, xT, tensorType('i32', [8])].map((type) => ({ type }));
  const [w1, b1, w2, b2, x, labels] = args;
  const callee = { ...f, name: 'mlp', visibility: 'private' as const };
  const [logits] = b.emit(Op.Call, [x, w1, b1, w2, b2], { callee: 'mlp' }, { resultTypes: f.resultTypes });
  const [n, k] = logits.type.shape;
  const max = b.emit1(Op.Reduce, [logits, e.scalar('f32', -Infinity)], { dims: [1] }, { regions: [e.combiner(Op.Maximum, 'f32')] });
  const shifted = e.sub(logits, e.broadcastInDim(max, [n, k], [0]));
  const lse = e.un(Op.Log, e.sum(e.un(Op.Exp, shifted), [1]));
  const logp = e.sub(shifted, e.broadcastInDim(lse, [n, k], [0]));
  const classes = b.emit1(Op.Iota, [], { dim: 1 }, { resultTypes: [tensorType('i32', [n, k])] });
  const oneHot = e.convert(e.compare('EQ', classes, e.broadcastInDim(labels, [n, k], [0])), 'f32');
  const loss = e.scale(e.total(e.mul(logp, oneHot)), -1 / n);
  const m = b.finish(args, [loss]);
  return { ...m, funcs: [...m.funcs, callee, ...forward.funcs.filter((g) => g !== f)] };
}

describe('gradients of corpus programs', () => {
  it('grad of mlp_forward under cross-entropy equals JAX mlp_grad', () => {
    const fwd = load('mlp_forward');
    const ref = load('mlp_grad');
    const loss = crossEntropyAround(fwd.module);
    const vg = valueAndGradModule(loss, [0, 1, 2, 3]);
    const inputs = ref.io.inputs.map((j, i) => fromJson(j, `input ${i}`));
    const outs = run(vg, inputs);
    // JAX's own gradient program, run on the same interpreter, and JAX's recorded outputs.
    const jaxRun = run(ref.module, inputs);
    ref.io.outputs.forEach((want, i) => {
      const w = fromJson(want);
      expect(outs[1 + i].shape).toEqual(w.shape);
      expect(mismatch(narrowData(outs[1 + i]), narrowData(w), 1e-5, 1e-3), `gradient ${i} vs JAX`).toBe('');
      expect(mismatch(narrowData(outs[1 + i]), narrowData(jaxRun[i]), 1e-5, 1e-3), `gradient ${i} vs mlp_grad.mlir`).toBe('');
    });
    expect(outs[0].data[0]).toBeGreaterThan(0);
  });

  for (const name of ['fori_loop', 'cumsum', 'softmax', 'layernorm', 'gelu']) {
    it(`grad of corpus ${name} matches finite differences`, () => {
      const { module, io } = load(name);
      const f = mainFunc(module);
      const types = f.args.map((a) => a.type);
      // A weighted sum of the program's first output, the program inlined by the VJP.
      const loss = weightedLoss(types, (e, args) => e.b.emit(Op.Call, args, { callee: 'prog' }, { resultTypes: f.resultTypes })[0]);
      const withProg: Module = { ...loss, funcs: [...loss.funcs, { ...f, name: 'prog', visibility: 'private' }, ...module.funcs.filter((g) => g !== f)] };
      const inputs = io.inputs.map((j) => fromJson(j));
      const outs = run(valueAndGradModule(withProg, [0]), inputs);
      const fd = finiteDifferences(withProg, inputs, 0, 1e-2);
      expect(mismatch(narrowData(outs[1]), fd, 2e-2, 2e-2)).toBe('');
    });
  }
});
