/**
 * @file chlo.scan bodies that are not one associative op (several ops, several inputs and
 * carries, outputs other than the carry, complex<f32> cumsum, reversed) on WebGPU, through the
 * compiler's counted while loop, against the reference interpreter's rule (itself checked
 * against hand-computed values in test/reference/scan.test.ts). The loop applies the body in the
 * rule's order, so results are equal exactly, but for the transcendental ops of the
 * cumlogsumexp body (exp, log1p: WGSL's builtins, within 1e-6 relative).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { SCAN_LOOPS } from '../helpers/scans.js';
import { closeGpu, gpu } from './gpu.js';

afterAll(closeGpu);

describe('chlo.scan as a counted while loop on WebGPU', () => {
  for (const [name, text, inputs] of SCAN_LOOPS) {
    it(`${name} matches the reference rule`, async () => {
      const m = parseModule(text, `${name}.mlir`);
      verifyModule(m);
      const want = interpret(m, inputs);
      const d = await gpu();
      const outs = d.execute(d.compile(m), inputs.map((t) => d.upload(t)));
      const got = await Promise.all(outs.map((o) => d.read(o)));
      outs.forEach((o) => d.free(o));
      expect(got.map((t) => [t.dtype, t.shape])).toEqual(want.map((t) => [t.dtype, t.shape]));
      got.forEach((t, i) => {
        const [g, w] = [Array.from(t.data as ArrayLike<number>), Array.from(want[i].data as ArrayLike<number>)];
        if (!name.startsWith('cumlogsumexp')) {
          expect(g, `result ${i}`).toEqual(w);
          return;
        }
        g.forEach((v, j) => expect(Math.abs(v - w[j]) <= 1e-6 * Math.abs(w[j]) + 1e-6 || v === w[j], `result ${i}[${j}]: ${v} vs ${w[j]}`).toBe(true));
      });
    });
  }
});
