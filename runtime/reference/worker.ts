/**
 * @file The worker side of an isolated reference device (`new ReferenceDevice({ isolate: true })`):
 * runs the interpreter on a thread of its own, so that a long or endless run never blocks the
 * thread that serves requests, and can be stopped at once by terminating the worker. Bundled to
 * dist/reference-worker.js by scripts/build.mjs.
 */
import { parentPort } from 'node:worker_threads';
import { KilnError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import type { Module } from '../../ir/types.js';
import type { HostTensor } from '../tensor.js';
import { interpret } from './interpreter.js';

/** A run to do: the program's canonical text (parsed once per id), its inputs and deadline. */
export interface WorkerRun {
  seq: number;
  id: string;
  ir: string;
  inputs: HostTensor[];
  deadline?: number;
}

/** A run's outcome: outputs, or the error as fields a KilnError can be rebuilt from. */
export type WorkerResult =
  | { seq: number; outputs: HostTensor[] }
  | { seq: number; error: { code: string; detail: string; loc?: KilnError['loc']; message: string } };

/** Parsed programs by id; a handful is plenty (runs come one program at a time, in bursts). */
const modules = new Map<string, Module>();
const KEEP = 16;

parentPort?.on('message', (run: WorkerRun) => {
  let result: WorkerResult;
  try {
    let m = modules.get(run.id);
    if (!m) {
      m = parseModule(run.ir, `${run.id.slice(0, 12)}.mlir`);
      modules.set(run.id, m);
      if (modules.size > KEEP) modules.delete(modules.keys().next().value!);
    }
    result = { seq: run.seq, outputs: interpret(m, run.inputs, { deadline: run.deadline }) };
  } catch (e) {
    const k = e instanceof KilnError ? e : undefined;
    result = { seq: run.seq, error: { code: k?.code ?? 'KILN_ERR_RUNTIME', detail: k?.detail ?? String((e as Error)?.message ?? e), loc: k?.loc, message: String((e as Error)?.message ?? e) } };
  }
  // Each output's memory moves to the caller; two outputs may view one buffer, so list it once.
  const transfer = 'outputs' in result ? [...new Set(result.outputs.map((t) => t.data.buffer as ArrayBuffer))] : [];
  parentPort!.postMessage(result, transfer);
});
