/**
 * @file Every module of the shared corpus compiled to WGSL and run on the WebGPU device (lavapipe
 * in CI), compared with the outputs JAX computed: rtol 1e-3 for transcendental-heavy programs,
 * 1e-4 otherwise, atol 1e-5, integers and booleans exact.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { corpusNames, loadCase, mismatch, TRANSCENDENTAL } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

describe('corpus on webgpu', () => {
  for (const name of corpusNames()) {
    it(name, async () => {
      const c = loadCase(name);
      const d = await gpu();
      const exe = d.compile(parse(c.text, c.file));
      const outs = d.execute(exe, c.inputs.map((t) => d.upload(t)));
      const got = await Promise.all(outs.map((o) => d.read(o)));
      const rtol = TRANSCENDENTAL.has(name) ? 1e-3 : 1e-4;
      expect(got.length).toBe(c.outputs.length);
      got.forEach((g, i) => expect(mismatch(g, c.outputs[i], rtol, 1e-5), `${name} output ${i}`).toBeUndefined());
    });
  }
});
