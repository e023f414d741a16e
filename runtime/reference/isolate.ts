/**
 * @file The main-thread side of an isolated reference device: one worker thread
 * (runtime/reference/worker.ts) that runs the interpreter, so an endless loop never blocks the
 * caller's event loop, and a cancelled or overdue run is stopped by terminating the worker (a new
 * one starts with the next run). Runs are sent one at a time; the device's queue orders them.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DeviceError, InputError, KilnError, TimeoutError, UnsupportedOpError, type KilnErrorCode } from '../../ir/errors.js';
import { cancellation } from '../device.js';
import type { HostTensor } from '../tensor.js';
import type { WorkerResult, WorkerRun } from './worker.js';

/**
 * The bundled worker: beside the bundle that imports this (dist/cli.js, dist/index.js), or under
 * dist/ of the checkout when this runs from source (tests; the build makes it first).
 */
function workerFile(): URL {
  for (const rel of ['./reference-worker.js', '../../dist/reference-worker.js']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  throw new DeviceError('the reference worker (dist/reference-worker.js) is not built: run `npm run build`');
}

/** A KilnError of the class its code names, so the server answers the same status as in-process. */
function rebuild(e: Extract<WorkerResult, { error: unknown }>['error']): KilnError {
  const classes: Partial<Record<KilnErrorCode, new (detail: string, loc?: KilnError['loc']) => KilnError>> = {
    KILN_ERR_TIMEOUT: TimeoutError, KILN_ERR_INPUT: InputError, KILN_ERR_UNSUPPORTED: UnsupportedOpError, KILN_ERR_DEVICE: DeviceError,
  };
  const C = classes[e.code as KilnErrorCode];
  return C ? new C(e.detail, e.loc) : new KilnError('KILN_ERR_RUNTIME', e.detail, e.loc);
}

/** Grace past a run's deadline for the interpreter to stop by itself before the worker is terminated. */
const DEADLINE_GRACE_MS = 1000;

export class ReferenceIsolate {
  private worker: Worker | undefined;
  private seq = 0;

  /** Runs `ir` (canonical text, parsed once per `id` in the worker) on `inputs`. */
  run(id: string, ir: string, inputs: HostTensor[], opts: { deadline?: number; signal?: AbortSignal }): Promise<HostTensor[]> {
    const stop = cancellation(opts.signal);
    if (stop) return Promise.reject(stop);
    const worker = (this.worker ??= this.spawn());
    worker.ref();
    const seq = ++this.seq;
    return new Promise<HostTensor[]>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        opts.signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
        worker.unref();
      };
      const kill = (e: KilnError) => {
        done();
        void worker.terminate();
        // A fresh worker starts now (loading the interpreter takes a while), not on the next run's time.
        if (this.worker === worker) this.worker = this.spawn();
        reject(e);
      };
      const onMessage = (r: WorkerResult) => {
        if (r.seq !== seq) return;
        done();
        if ('error' in r) reject(rebuild(r.error));
        else resolve(r.outputs);
      };
      const onError = (e: Error) => kill(new DeviceError(`the reference worker failed: ${e.message}`));
      const onExit = (code: number) => kill(new DeviceError(`the reference worker exited (code ${code}) during a run`));
      const onAbort = () => kill(cancellation(opts.signal)!);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.deadline !== undefined) {
        // The interpreter checks its deadline between ops; one op that runs long is stopped here.
        timer = setTimeout(() => kill(new TimeoutError('the run passed its deadline (stopped)')), Math.max(0, opts.deadline - Date.now()) + DEADLINE_GRACE_MS);
      }
      const msg: WorkerRun = { seq, id, ir, inputs, deadline: opts.deadline };
      worker.postMessage(msg);
    });
  }

  terminate(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private spawn(): Worker {
    const w = new Worker(workerFile());
    // Referenced only while it runs: an idle worker must not keep the process alive.
    w.unref();
    return w;
  }
}
