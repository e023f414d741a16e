/**
 * @file The conformance corpus on the reference interpreter: every `NAME.mlir` in
 * shared/stablehlo-corpus, parsed and verified, run on `NAME.json`'s inputs, must give JAX's
 * outputs: |got - want| <= 1e-5 + 1e-4 |want| for floats, exact for integers and booleans.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFloat } from '../../ir/dtype.js';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { fromJson, type HostTensor, type JsonTensor } from '../../runtime/tensor.js';
import { CORPUS_DIR as CORPUS } from '../helpers/corpus.js';

const NAMES = readdirSync(CORPUS).filter((f) => f.endsWith('.mlir')).map((f) => f.slice(0, -5)).sort();

/** Indices and values of the elements of `got` that are not within tolerance of `want`. */
export function mismatches(got: HostTensor, want: HostTensor, atol = 1e-5, rtol = 1e-4): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.data.length; i++) {
    const [gb, wb] = [got.data[i], want.data[i]];
    if (typeof gb === 'bigint' || typeof wb === 'bigint') {
      if (gb !== wb) bad.push(`[${i}] got ${gb}, want ${wb}`);
      continue;
    }
    const [g, w] = [gb, wb];
    const ok = isFloat(want.dtype)
      ? (Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= atol + rtol * Math.abs(w))
      : g === w;
    if (!ok) bad.push(`[${i}] got ${g}, want ${w}`);
  }
  return bad;
}

describe('the StableHLO corpus on the reference interpreter', () => {
  it('has the 14 programs', () => {
    expect(NAMES.length).toBe(14);
  });

  it.each(NAMES)('%s', (name) => {
    const text = readFileSync(join(CORPUS, `${name}.mlir`), 'utf8');
    const io = JSON.parse(readFileSync(join(CORPUS, `${name}.json`), 'utf8')) as { inputs: JsonTensor[]; outputs: JsonTensor[] };
    const m = parseModule(text, `${name}.mlir`);
    verifyModule(m);
    const got = interpret(m, io.inputs.map((j, i) => fromJson(j, `input ${i}`)));
    expect(got.length).toBe(io.outputs.length);
    io.outputs.forEach((j, i) => {
      const want = fromJson(j, `output ${i}`);
      expect(got[i].dtype, `output ${i} dtype`).toBe(want.dtype);
      expect(got[i].shape, `output ${i} shape`).toEqual(want.shape);
      expect(mismatches(got[i], want).slice(0, 5), `output ${i}`).toEqual([]);
    });
  });

  it('runs every program through the reference device as well (compile, upload, execute, read)', async () => {
    const device = new ReferenceDevice();
    for (const name of NAMES) {
      const m = parseModule(readFileSync(join(CORPUS, `${name}.mlir`), 'utf8'), `${name}.mlir`);
      const io = JSON.parse(readFileSync(join(CORPUS, `${name}.json`), 'utf8')) as { inputs: JsonTensor[]; outputs: JsonTensor[] };
      const exe = device.compile(m);
      expect(device.compile(parseModule(readFileSync(join(CORPUS, `${name}.mlir`), 'utf8')))).toBe(exe);
      const outs = device.execute(exe, io.inputs.map((j) => device.upload(fromJson(j))));
      for (const [i, j] of io.outputs.entries()) {
        expect(mismatches(await device.read(outs[i]), fromJson(j)).slice(0, 5), `${name} output ${i}`).toEqual([]);
      }
    }
    device.destroy();
  });
});
