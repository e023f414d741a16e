/**
 * @file MNIST's `/models` hook end to end: the example (two training steps, on the reference
 * device) saves its weights, registers the classifier with a real kiln server (lavapipe) through
 * `/models` with `serve`, and examples/mnist_classify.py classifies the written test digits from
 * Python; its classes must be the TS side's own predictions of the same digits. Needs numpy and
 * msgpack (python3-numpy, python3-msgpack; KILN_PYTHON names another interpreter).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setDefaultDevice } from '../../client/index.js';
import { SERVE_DIGITS, train } from '../../examples/mnist.js';
import { referenceDevice, webgpuDevice } from '../helpers/devices.js';
import { startServer, type TestServer } from '../server/harness.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../examples/mnist_classify.py', import.meta.url));
const PYTHON = process.env.KILN_PYTHON ?? '/usr/bin/python3';

let server: TestServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-mnist-serve-'));
  server = await startServer({ device: await webgpuDevice() });
  setDefaultDevice(referenceDevice());
});
afterAll(async () => {
  setDefaultDevice('auto');
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('registers the trained CNN through /models and classifies test digits from Python as the TS side does', async () => {
  const out = join(dir, 'mnist.safetensors');
  const lines: string[] = [];
  const r = await train({ steps: 2, batch: 16, lr: 0.003, width: 4, train: 64, test: 32, out, resume: false, serve: server.url, model: 'digits', log: (l) => lines.push(l) });
  const served = r.served!;
  expect(served.predicted.length).toBe(SERVE_DIGITS);
  expect(lines.some((l) => l.includes(`registered 'digits' at ${server.url}: 6 weights`))).toBe(true);
  // In the default session, where another client finds it.
  const m = server.app.kiln.session.models.get('digits');
  expect(m.args.length).toBe(7);

  const { stdout } = await run(PYTHON, [SCRIPT, server.url, served.digits, '--model', 'digits']);
  expect(stdout).toContain(`classes ${served.predicted.join(' ')}`);
  const right = served.predicted.filter((c, i) => c === served.labels[i]).length;
  expect(stdout).toContain(`accuracy ${(right / SERVE_DIGITS).toFixed(3)} on ${SERVE_DIGITS} digits`);
  expect(m.runs).toBe(1);

  // Registering again replaces it; a missing model is exit code 2 with the command to run.
  await train({ steps: 2, batch: 16, lr: 0.003, width: 4, train: 64, test: 32, out, resume: true, serve: server.url, model: 'digits', log: () => {} });
  expect(server.app.kiln.session.models.get('digits').runs).toBe(0);
  const missing = await run(PYTHON, [SCRIPT, server.url, served.digits, '--model', 'nosuch']).catch((e: { code: number; stderr: string }) => e);
  expect(missing).toMatchObject({ code: 2 });
  expect((missing as { stderr: string }).stderr).toContain("no model 'nosuch'");
}, 240_000);
