/**
 * @file Comparison of a lowering's GPU results with expected values and with the reference
 * interpreter.
 */
import { expect } from 'vitest';
import type { Operation } from '../../ir/types.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { narrowData, type HostTensor } from '../../runtime/tensor.js';
import { moduleOf } from './build.js';
import { runLowering, type LoweredRun } from './harness.js';

/** Element-wise equality within `atol + rtol * |want|` (exact for integers); NaN equals NaN. */
export function expectClose(got: HostTensor, want: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): void {
  expect(got.data.length).toBe(want.length);
  const bad: string[] = [];
  const data = narrowData(got);
  for (let i = 0; i < want.length; i++) {
    const g = data[i];
    const w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g)
      : got.dtype === 'f32' || got.dtype === 'f16' ? Math.abs(g - w) <= atol + rtol * Math.abs(w) : g === w;
    if (!ok && bad.length < 8) bad.push(`[${i}] got ${g} want ${w}`);
  }
  expect(bad, bad.join('\n')).toEqual([]);
}

/** Runs `o` on the GPU and checks each result against `want`. */
export async function expectGpu(o: Operation, inputs: HostTensor[], want: ArrayLike<number>[]): Promise<LoweredRun> {
  const run = await runLowering(o, inputs);
  want.forEach((w, i) => expectClose(run.outputs[i], w));
  return run;
}

/** Runs `o` on the GPU and on the reference interpreter and compares every result. */
export async function expectMatchesReference(o: Operation, inputs: HostTensor[], atol?: number, rtol?: number): Promise<LoweredRun> {
  const want = interpret(moduleOf(o), inputs);
  const run = await runLowering(o, inputs);
  want.forEach((w, i) => {
    expect(run.outputs[i].shape).toEqual(w.shape);
    expectClose(run.outputs[i], narrowData(w), atol, rtol);
  });
  return run;
}
