/**
 * @file The worker thread of server/front.ts: parses, verifies, checks and hashes large request IR
 * off the thread that answers requests. Bundled to dist/front-worker.js by scripts/build.mjs.
 */
import { parentPort } from 'node:worker_threads';
import { KilnError } from '../ir/errors.js';
import { HttpError } from './errors.js';
import { frontEnd, type FrontLimits, type FrontReply } from './front.js';

parentPort?.on('message', (job: { seq: number; text: string; file: string; limits: FrontLimits }) => {
  let reply: FrontReply;
  try {
    reply = { seq: job.seq, result: frontEnd(job.text, job.file, job.limits) };
  } catch (e) {
    const http = e instanceof HttpError;
    const code = http ? e.code : e instanceof KilnError ? e.code : 'KILN_ERR_INTERNAL';
    const detail = e instanceof KilnError ? e.detail : http ? e.message : String((e as Error)?.message ?? e);
    const loc = e instanceof KilnError ? e.loc : http && e.line !== undefined ? { file: job.file, line: e.line, column: e.column ?? 0 } : undefined;
    reply = { seq: job.seq, error: { http, code, detail, loc } };
  }
  parentPort!.postMessage(reply);
});
