/**
 * @file The corpus's indexed ops as the parser reads them (attributes from JAX's own text), run
 * through their lowerings on the corpus inputs and compared with JAX's outputs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import type { AnyOperation, Module, Operation } from '../../ir/types.js';
import { walkOps } from '../../ir/types.js';
import { fromJson, hostTensor, type JsonTensor, narrowData } from '../../runtime/tensor.js';
import { expectClose } from './check.js';
import { runLowering } from './harness.js';
import { pathToFileURL } from 'node:url';
import { CORPUS_DIR } from '../helpers/corpus.js';

const dir = pathToFileURL(`${CORPUS_DIR}/`);

function load(name: string): { m: Module; inputs: ReturnType<typeof fromJson>[]; outputs: ReturnType<typeof fromJson>[] } {
  const m = parseModule(readFileSync(new URL(`${name}.mlir`, dir), 'utf8'), `${name}.mlir`);
  const j = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as { inputs: JsonTensor[]; outputs: JsonTensor[] };
  return { m, inputs: j.inputs.map((x) => fromJson(x)), outputs: j.outputs.map((x) => fromJson(x)) };
}

function find(m: Module, op: string): Operation {
  const found: AnyOperation[] = [];
  for (const f of m.funcs) walkOps(f.body, (o) => { if (o.op === op) found.push(o); });
  expect(found).toHaveLength(1);
  return found[0];
}

describe('corpus ops through the parser', () => {
  it('conv2d_nchw', async () => {
    const c = load('conv2d_nchw');
    const run = await runLowering(find(c.m, 'stablehlo.convolution'), c.inputs);
    expectClose(run.outputs[0], narrowData(c.outputs[0]));
  });

  it('cumsum (reduce_window with an add body)', async () => {
    const c = load('cumsum');
    const run = await runLowering(find(c.m, 'stablehlo.reduce_window'), [c.inputs[0], hostTensor('f32', [], [0])]);
    expectClose(run.outputs[0], narrowData(c.outputs[0]));
  });

  it('gather_embedding (indices normalised as the program does before its gather)', async () => {
    const c = load('gather_embedding');
    const ids = Array.from(narrowData(c.inputs[1]), (i) => (i < 0 ? i + 10 : i));
    const run = await runLowering(find(c.m, 'stablehlo.gather'), [c.inputs[0], hostTensor('i32', [3, 5, 1], ids)]);
    expectClose(run.outputs[0], narrowData(c.outputs[0]));
  });

  it('mlp_grad scatter with batching dims parses and lowers to one kernel', async () => {
    const c = load('mlp_grad');
    const o = find(c.m, 'stablehlo.scatter');
    const labels = [1, 0, 3, 2, 2, 1, 0, 3];
    const run = await runLowering(o, [hostTensor('f32', [8, 4]), hostTensor('i32', [8, 1, 1], labels), hostTensor('f32', [8, 1], labels.map(() => -0.125))]);
    const want = new Array(32).fill(0);
    labels.forEach((l, r) => { want[r * 4 + l] = -0.125; });
    expectClose(run.outputs[0], want);
    expect(run.kernels).toHaveLength(1);
  });
});
