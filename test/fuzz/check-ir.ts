/**
 * @file The property every piece of IR text must have, however broken: parsing, verifying,
 * compiling and interpreting it either succeed or throw a KilnError whose message starts with
 * `file:line:col` when it has a location. A raw TypeError or RangeError, an "internal" error, or
 * a printed module that does not parse again is a bug, reported with the stage it came from.
 */
import { KilnError, formatLocation } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import { numElements, walkOps, type Func, type Module } from '../../ir/types.js';
import { compile } from '../../compiler/compile.js';
import { DEFAULT_TARGET } from '../../compiler/program.js';
import { interpret, entryFunc } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { isSupportedDType, lanes } from '../../ir/dtype.js';
import { rng } from '../helpers/rng.js';

/** What one piece of text got to: how far it went, and the error that stopped it. */
export interface IrOutcome {
  stage: 'parse' | 'verify' | 'compile' | 'interpret' | 'done';
  error?: KilnError;
  /** True when the interpreter was skipped (values too large for a quick fuzz run). */
  skippedRun?: boolean;
}

/** Values past this many elements are not run by the interpreter in fuzz tests (time, not safety). */
const RUN_ELEMENTS = 1 << 16;

/** A bug the fuzz property found: names the stage and carries the original error as the cause. */
export class FuzzBug extends Error {
  constructor(stage: string, e: unknown) {
    super(`${stage}: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`, { cause: e });
  }
}

/** Throws FuzzBug unless `e` is a KilnError with a well-formed, located message. */
function expectKilnError(stage: string, e: unknown): KilnError {
  if (!(e instanceof KilnError)) throw new FuzzBug(stage, e);
  if (/internal (parser )?error/i.test(e.message)) throw new FuzzBug(`${stage} (internal error)`, e);
  if (e.loc) {
    const prefix = formatLocation(e.loc);
    if (!e.message.startsWith(`${prefix}: `) || !/^.+:\d+:\d+$/.test(prefix) || e.loc.line < 1 || e.loc.column < 1) {
      throw new FuzzBug(`${stage} (bad location ${JSON.stringify(e.loc)})`, e);
    }
  }
  return e;
}

/** Random inputs of the entry function's argument types. */
export function randomInputs(f: Func, seed: number): HostTensor[] {
  const r = rng(seed);
  return f.args.map((a) => {
    const d = a.type.dtype;
    if (!isSupportedDType(d)) throw new Error(`unsupported ${d} reached the interpreter`);
    const n = numElements(a.type.shape);
    const values = Array.from({ length: n * lanes(d) }, () => {
      switch (d) {
        case 'f32': case 'f16': case 'bf16': case 'c64': return (r() - 0.5) * 8;
        case 'i32': case 'i8': case 'i16': return Math.floor(r() * 11) - 5;
        case 'ui32': case 'ui8': case 'ui16': return Math.floor(r() * 6);
        case 'i1': return r() < 0.5 ? 0 : 1;
        case 'i64': return Math.floor(r() * 11) - 5;
        case 'ui64': return Math.floor(r() * 6);
        default: return d satisfies never;
      }
    });
    return hostTensor(d, a.type.shape, values);
  });
}

function largestValue(m: Module): number {
  let most = 0;
  for (const f of m.funcs) {
    for (const a of f.args) most = Math.max(most, numElements(a.type.shape));
    walkOps(f.body, (o) => {
      for (const r of [...o.results, ...o.operands]) most = Math.max(most, numElements(r.type.shape));
    });
  }
  return most;
}

/**
 * Takes `text` as far as it goes (parse, print and re-parse, verify, compile, interpret with
 * random inputs and a deadline `runMs` ahead) and throws FuzzBug at the first broken promise.
 */
export function checkIrText(text: string, seed = 1, runMs = 300, file = 'fuzz.mlir'): IrOutcome {
  let m: Module;
  try {
    m = parseModule(text, file);
  } catch (e) {
    return { stage: 'parse', error: expectKilnError('parse', e) };
  }
  let printed: string;
  try {
    printed = printModule(m);
  } catch (e) {
    throw new FuzzBug('print', e);
  }
  try {
    parseModule(printed, 'printed.mlir');
  } catch (e) {
    throw new FuzzBug(`re-parse of the printed module\n${printed}\n`, e);
  }
  try {
    verifyModule(m);
  } catch (e) {
    return { stage: 'verify', error: expectKilnError('verify', e) };
  }
  // The compiler and the interpreter are independent consumers of a verified module: both run.
  let compileError: KilnError | undefined;
  try {
    compile(m, DEFAULT_TARGET);
  } catch (e) {
    compileError = expectKilnError('compile', e);
  }
  const stopped = (): IrOutcome => (compileError ? { stage: 'compile', error: compileError } : { stage: 'done' });
  if (largestValue(m) > RUN_ELEMENTS) return { ...stopped(), skippedRun: true };
  try {
    const inputs = randomInputs(entryFunc(m), seed);
    interpret(m, inputs, { deadline: Date.now() + runMs });
  } catch (e) {
    return { stage: 'interpret', error: expectKilnError('interpret', e) };
  }
  return stopped();
}
