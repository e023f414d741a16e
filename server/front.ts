/**
 * @file The server's front end for request IR: parse under the server's limits, verify, check
 * sizes, hash and print canonically. Small texts are done in place; larger ones on a worker
 * thread (server/front-worker.ts), since parsing a module of a million tokens takes seconds that
 * /health would otherwise wait: the worker hands back the parsed module (a structured clone, a
 * fraction of the parse time) with its id and canonical text.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { byteSize } from '../ir/dtype.js';
import { formatLocation, KilnError, ParseError, UnsupportedOpError, VerifyError, type Location } from '../ir/errors.js';
import { hashModule } from '../ir/hash.js';
import { checkTextLimits, TextLimitError } from '../ir/parse/lexer.js';
import { parseModule } from '../ir/parse/parser.js';
import { printModule } from '../ir/print.js';
import { formatType, numElements, walkOps, type Module } from '../ir/types.js';
import { verifyModule } from '../ir/verify.js';
import { ERROR_CODES, HttpError, type ServerErrorCode } from './errors.js';
import type { Limits } from './state.js';

/** A verified module with its graph hash and canonical text. */
export interface FrontResult {
  module: Module;
  id: string;
  ir: string;
}

/** The limits the front end applies (a structured-cloneable part of {@link Limits}). */
export type FrontLimits = Pick<Limits, 'irTokens' | 'opsPerModule' | 'residentBytes'>;

/** Parses, verifies and checks `text` in this thread. Throws HttpError (413) or KilnError (located). */
export function frontEnd(text: string, file: string, limits: FrontLimits): FrontResult {
  const module = parseLimited(text, file, limits);
  verifyModule(module);
  checkSize(module, limits);
  return { module, id: hashModule(module), ir: printModule(module) };
}

/** Parses request IR under the server's token limit; passing it is a 413 at the token where it passed. */
function parseLimited(text: string, file: string, limits: FrontLimits): Module {
  return limited(() => parseModule(text, file, { maxTokens: limits.irTokens }));
}

/** Runs `f`, turning the lexer's token-limit error into a 413 located where the limit was passed. */
function limited<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TextLimitError && e.limit === 'tokens') {
      throw new HttpError('KILN_ERR_TOO_LARGE', `${e.message.replace(/the limit$/, "this server's limit")}`, e.loc);
    }
    throw e;
  }
}

/** Refuses modules with too many ops, or with a value larger than the server would ever hold. */
function checkSize(m: Module, limits: FrontLimits): void {
  let n = 0;
  for (const f of m.funcs) {
    walkOps(f.body, (o) => {
      n++;
      for (const r of o.results) {
        const bytes = numElements(r.type.shape) * byteSize(r.type.dtype);
        if (bytes > limits.residentBytes) {
          throw new HttpError('KILN_ERR_TOO_LARGE',
            `${formatLocation(o.loc)}: ${o.op} makes a ${formatType(r.type)} of ${bytes} bytes; this server holds at most ${limits.residentBytes}`,
            o.loc);
        }
      }
    });
  }
  if (n > limits.opsPerModule) throw new HttpError('KILN_ERR_TOO_LARGE', `module has ${n} operations; this server's limit is ${limits.opsPerModule}`);
}


/** Texts shorter than this are parsed in place: a worker round trip would cost more than it saves. */
const IN_PLACE_CHARS = 64 << 10;

/** What the worker answers. */
export type FrontReply =
  | { seq: number; result: FrontResult }
  | { seq: number; error: { http: boolean; code: string; detail: string; loc?: Location } };

/** The error the worker reported, as the class the server would have thrown in place. */
export function rebuildError(e: Extract<FrontReply, { error: unknown }>['error']): Error {
  if (e.http && e.code in ERROR_CODES) return new HttpError(e.code as ServerErrorCode, e.detail, e.loc);
  const classes: Record<string, new (detail: string, loc?: Location) => KilnError> = {
    KILN_ERR_PARSE: ParseError, KILN_ERR_VERIFY: VerifyError, KILN_ERR_UNSUPPORTED: UnsupportedOpError,
  };
  const C = classes[e.code];
  return C ? new C(e.detail, e.loc) : new HttpError('KILN_ERR_INTERNAL', `front end: ${e.detail}`);
}

/** The bundled worker beside this bundle, or under dist/ of the checkout; undefined when not built. */
function workerFile(): URL | undefined {
  for (const rel of ['./front-worker.js', '../dist/front-worker.js']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/** Runs {@link frontEnd} on a worker thread for large texts (one at a time, in order). */
export class Frontend {
  private worker: Worker | undefined;
  private seq = 0;
  private readonly file = workerFile();

  constructor(private readonly limits: FrontLimits) {}

  async run(text: string, file: string): Promise<FrontResult> {
    if (text.length < IN_PLACE_CHARS || !this.file) return frontEnd(text, file, this.limits);
    // The nesting and token limits first, in place: one pass that allocates nothing refuses a
    // hostile text (4 MB of '[') in milliseconds, without a worker or a copy of the text.
    limited(() => checkTextLimits(text, file, { maxTokens: this.limits.irTokens }));
    const worker = (this.worker ??= new Worker(this.file));
    worker.ref();
    const seq = ++this.seq;
    try {
      return await new Promise<FrontResult>((resolve, reject) => {
        const onMessage = (r: FrontReply) => {
          if (r.seq !== seq) return;
          off();
          if ('error' in r) reject(rebuildError(r.error));
          else resolve(r.result);
        };
        const onError = (e: Error) => { off(); this.worker = undefined; reject(new HttpError('KILN_ERR_INTERNAL', `the parse worker failed: ${e.message}`)); };
        const off = () => { worker.off('message', onMessage); worker.off('error', onError); };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.postMessage({ seq, text, file, limits: { irTokens: this.limits.irTokens, opsPerModule: this.limits.opsPerModule, residentBytes: this.limits.residentBytes } });
      });
    } finally {
      // Idle, it must not keep the process alive.
      worker.unref();
    }
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
