/**
 * @file Compiled programs persisted beside the IR (server/artifacts.ts): a restarted `kiln serve`
 * on the same --cache-dir loads what the last one compiled instead of compiling it again (counted
 * by kiln_programs_compiled_total / kiln_artifacts_loaded_total), with the same results; a file
 * that fails its checksum, or holds another program under a program's name, is deleted and the
 * program compiled again; DELETE /executables/:id deletes the compiled form too. Real servers on
 * lavapipe (WebGPU), each result checked bit for bit against the reference interpreter.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashModule } from '../../ir/hash.js';
import { parseModule } from '../../ir/parse/parser.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import { hostTensor, toBytes, type HostTensor } from '../../runtime/tensor.js';
import { call, unwire, wire, serveCli } from './harness.js';

const MATMUL = `func.func @main(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  %1 = stablehlo.abs %0 : tensor<8x4xf32>
  return %1 : tensor<8x4xf32>
}`;
const ADD = `func.func @main(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  %1 = stablehlo.negate %0 : tensor<8x4xf32>
  return %1 : tensor<8x4xf32>
}`;
// Small integers: every product and sum is exact, so any summation order gives the same bits.
const a = hostTensor('f32', [8, 16], Array.from({ length: 128 }, (_, i) => ((i * 7) % 9) - 4));
const b = hostTensor('f32', [16, 4], Array.from({ length: 64 }, (_, i) => ((i * 5) % 7) - 3));
const idOf = (t: string) => hashModule(parseModule(t, 'test.mlir'));

const dir = mkdtempSync(join(tmpdir(), 'kiln-artifacts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function reference(text: string): Promise<HostTensor> {
  const ref = new ReferenceDevice();
  const [out] = ref.execute(ref.compile(parseModule(text, 'ref.mlir')), [ref.upload(a), ref.upload(b)]);
  const t = await ref.read(out);
  ref.destroy();
  return t;
}

const serve = () => serveCli(dir);

async function stop(child: ChildProcess): Promise<void> {
  await new Promise((resolve) => { child.on('exit', resolve); child.kill('SIGTERM'); });
}

async function metrics(url: string): Promise<Record<string, number>> {
  const text = (await call(url, 'GET', '/metrics')).body as string;
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(kiln_programs_compiled_total|kiln_artifacts_loaded_total|kiln_artifacts_rejected_total) (\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

async function runBoth(url: string): Promise<void> {
  for (const text of [MATMUL, ADD]) {
    const r = await call(url, 'POST', '/run', { ir: text, inputs: [wire(a), wire(b)] });
    expect(r.status).toBe(200);
    expect(toBytes(unwire(r.body.outputs[0]))).toEqual(toBytes(await reference(text)));
  }
}

const files = () => readdirSync(join(dir, 'artifacts')).filter((f) => f.endsWith('.art'));
const fileOf = (text: string) => join(dir, 'artifacts', files().find((f) => f.startsWith(`${idOf(text)}-`))!);

describe('compiled programs on disk', () => {
  it('are written by the first server and loaded by a restarted one, which compiles nothing', async () => {
    const first = await serve();
    try {
      await runBoth(first.url);
      expect(await metrics(first.url)).toEqual({ kiln_programs_compiled_total: 2, kiln_artifacts_loaded_total: 0, kiln_artifacts_rejected_total: 0 });
    } finally {
      await stop(first.child);
    }
    expect(files()).toHaveLength(2);
    for (const t of [MATMUL, ADD]) expect(files().filter((f) => new RegExp(`^${idOf(t)}-[0-9a-f]{24}\\.art$`).test(f))).toHaveLength(1);
    expect(readFileSync(fileOf(MATMUL), 'utf8')).toMatch(/^kiln-artifact-1 [0-9a-f]{64}\n.*@compute/s);
    const second = await serve();
    try {
      await runBoth(second.url);
      expect(await metrics(second.url)).toEqual({ kiln_programs_compiled_total: 0, kiln_artifacts_loaded_total: 2, kiln_artifacts_rejected_total: 0 });
    } finally {
      await stop(second.child);
    }
  }, 60_000);

  it('deletes a corrupt file and one holding another program, compiles both again, and DELETE removes them', async () => {
    appendFileSync(fileOf(MATMUL), 'x');
    const other = readFileSync(fileOf(MATMUL));
    const addFile = fileOf(ADD);
    // A sound file of the matmul (checksum fine) under the other program's name.
    const sound = readFileSync(fileOf(MATMUL), 'utf8').slice(0, -1);
    writeFileSync(fileOf(MATMUL), sound);
    copyFileSync(fileOf(MATMUL), addFile);
    writeFileSync(fileOf(MATMUL), other);
    const s = await serve();
    try {
      await runBoth(s.url);
      expect(await metrics(s.url)).toEqual({ kiln_programs_compiled_total: 2, kiln_artifacts_loaded_total: 0, kiln_artifacts_rejected_total: 2 });
      // Rebuilt: both files are sound again.
      expect(readFileSync(fileOf(MATMUL), 'utf8').endsWith('x')).toBe(false);
      expect(readFileSync(fileOf(ADD), 'utf8')).not.toBe(sound);
      const d = await call(s.url, 'DELETE', `/executables/${idOf(ADD)}`);
      expect(d.body).toEqual({ deleted: idOf(ADD) });
      expect(files().some((f) => f.startsWith(`${idOf(ADD)}-`))).toBe(false);
      expect(files().some((f) => f.startsWith(`${idOf(MATMUL)}-`))).toBe(true);
    } finally {
      await stop(s.child);
    }
  }, 60_000);
});
