/**
 * @file The playground's example programs: a few small built-in ones (so an installed server has
 * something to pick), plus every `NAME.mlir` with a `NAME.json` beside it in an examples directory
 * in the corpus format (`{inputs, outputs}`; see ../shared/stablehlo-corpus/README.md).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { JsonTensor } from '../../runtime/tensor.js';

/** One program with the inputs to call it with and, where known, the outputs it should give. */
export interface Example {
  name: string;
  /** `built-in`, or the name of the directory it was read from. */
  source: string;
  note: string;
  ir: string;
  inputs: JsonTensor[];
  outputs?: JsonTensor[];
}

export type ExampleSummary = Omit<Example, 'ir' | 'inputs' | 'outputs'>;

/** Corpus files larger than this are not offered: the page would choke on them as JSON text. */
const MAX_EXAMPLE_BYTES = 2 * 2 ** 20;
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

const f32 = (shape: number[], data: number[]): JsonTensor => ({ dtype: 'f32', shape, data });

const BUILT_IN: Example[] = [
  {
    name: 'scale_add',
    source: 'built-in',
    note: '2x + y on a 2x3 matrix: one fused elementwise kernel.',
    ir: `func.func @main(%x: tensor<2x3xf32>, %y: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %c = stablehlo.constant dense<2.000000e+00> : tensor<2x3xf32>
  %0 = stablehlo.multiply %x, %c : tensor<2x3xf32>
  %1 = stablehlo.add %0, %y : tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}
`,
    inputs: [f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([2, 3], [0.5, 0.5, 0.5, -1, -1, -1])],
    outputs: [f32([2, 3], [2.5, 4.5, 6.5, 7, 9, 11])],
  },
  {
    name: 'row_sum',
    source: 'built-in',
    note: 'A reduction across the last dimension.',
    ir: `func.func @main(%x: tensor<2x4xf32>) -> tensor<2xf32> {
  %c = stablehlo.constant dense<0.000000e+00> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %c) applies stablehlo.add across dimensions = [1] : (tensor<2x4xf32>, tensor<f32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
`,
    inputs: [f32([2, 4], [1, 2, 3, 4, 10, 20, 30, 40])],
    outputs: [f32([2], [10, 100])],
  },
  {
    name: 'matmul_relu',
    source: 'built-in',
    note: 'relu(a @ b): a contraction followed by an elementwise maximum.',
    ir: `func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %c = stablehlo.constant dense<0.000000e+00> : tensor<2x2xf32>
  %1 = stablehlo.maximum %0, %c : tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}
`,
    inputs: [f32([2, 3], [1, 2, 3, -1, -2, -3]), f32([3, 2], [1, 0, 0, 1, 1, -1])],
    // [1+3, 2-3] = [4, -1] -> [4, 0]; [-1-3, -2+3] = [-4, 1] -> [0, 1]
    outputs: [f32([2, 2], [4, 0, 0, 1])],
  },
];

/** The examples a server offers: built-in ones first, then those found in `dir` (if it exists). */
export class Examples {
  constructor(readonly dir: string | undefined) {}

  list(): ExampleSummary[] {
    const out: ExampleSummary[] = BUILT_IN.map(({ name, source, note }) => ({ name, source, note }));
    for (const name of this.names()) {
      out.push({ name, source: basename(this.dir!), note: this.read(name)?.note ?? '' });
    }
    return out;
  }

  /** The example called `name`, or undefined (unknown names never reach the file system). */
  get(name: string): Example | undefined {
    return BUILT_IN.find((e) => e.name === name) ?? (this.names().includes(name) ? this.read(name) : undefined);
  }

  /** Names with both files present, small enough and not shadowing a built-in one. */
  private names(): string[] {
    if (!this.dir || !existsSync(this.dir)) return [];
    const files = new Set(readdirSync(this.dir));
    return [...files]
      .filter((f) => f.endsWith('.mlir') && files.has(`${f.slice(0, -5)}.json`))
      .map((f) => f.slice(0, -5))
      .filter((n) => NAME.test(n) && !BUILT_IN.some((b) => b.name === n))
      .filter((n) => statSync(join(this.dir!, `${n}.json`)).size <= MAX_EXAMPLE_BYTES)
      .sort();
  }

  private read(name: string): Example | undefined {
    try {
      const doc = JSON.parse(readFileSync(join(this.dir!, `${name}.json`), 'utf8')) as { note?: string; inputs?: JsonTensor[]; outputs?: JsonTensor[] };
      if (!Array.isArray(doc.inputs)) return undefined;
      return {
        name, source: basename(this.dir!), note: typeof doc.note === 'string' ? doc.note : '',
        ir: readFileSync(join(this.dir!, `${name}.mlir`), 'utf8'),
        inputs: doc.inputs,
        outputs: Array.isArray(doc.outputs) ? doc.outputs : undefined,
      };
    } catch {
      // A half-written or foreign file in the directory is simply not offered.
      return undefined;
    }
  }
}
