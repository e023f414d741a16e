/**
 * @file The compiler's pass pipeline: a flat, named list of `(m: Module) => Module` passes. With
 * `verify` on (tests, `KILN_DEBUG`), the verifier runs after every pass and names the pass that
 * broke the module; `KILN_DEBUG=dump` prints the IR after each pass.
 *
 * Every pass leaves its input untouched and returns the input itself when it changed nothing, so
 * the cleanup passes can be repeated until none of them changes the module (a fixed point),
 * which costs one module copy per pass and round.
 */
import { VerifyError } from '../ir/errors.js';
import { printModule } from '../ir/print.js';
import type { Module } from '../ir/types.js';
import { verifyModule } from '../ir/verify.js';
import { eliminateCommonSubexpressions } from './passes/cse.js';
import { eliminateDeadCode } from './passes/dce.js';
import { lowerBf16 } from './passes/bf16.js';
import { expandOps } from './passes/expand.js';
import { lowerSmallInts } from './passes/smallint.js';
import { foldConstants } from './passes/fold.js';
import { inlineCalls } from './passes/inline.js';
import { simplify } from './passes/simplify.js';

export interface Pass {
  name: string;
  /** Returns the transformed module; never mutates `m`; returns `m` itself when nothing changed. */
  run(m: Module): Module;
}

export const bf16Pass: Pass = { name: 'bf16', run: lowerBf16 };
export const smallIntPass: Pass = { name: 'smallint', run: lowerSmallInts };
export const expandPass: Pass = { name: 'expand', run: expandOps };
export const inlinePass: Pass = { name: 'inline', run: inlineCalls };
export const simplifyPass: Pass = { name: 'simplify', run: simplify };
export const foldPass: Pass = { name: 'fold', run: foldConstants };
export const csePass: Pass = { name: 'cse', run: eliminateCommonSubexpressions };
export const dcePass: Pass = { name: 'dce', run: eliminateDeadCode };

/** The pipeline, in order. After one pass of each, {@link cleanupPasses} repeat to a fixed point. */
export const passes: Pass[] = [bf16Pass, smallIntPass, expandPass, inlinePass, simplifyPass, foldPass, csePass, dcePass];

/** The passes repeated after the first round while any of them still changes the module. */
export const cleanupPasses: Pass[] = [simplifyPass, foldPass, csePass, dcePass];

/** Rounds of {@link cleanupPasses} at most; each round that changes something shrinks the graph, so few are needed. */
export const MAX_CLEANUP_ROUNDS = 8;

export interface RunPassesOptions {
  /** Verify after every pass. Default: on when `VITEST` or `KILN_DEBUG` is set in the environment. */
  verify?: boolean;
  /** Receives the printed IR after every pass that ran (also when it changed nothing). */
  dump?: (pass: string, text: string) => void;
  /** The passes to run instead of {@link passes} (cleanup rounds follow only for the default list). */
  passes?: Pass[];
}

function env(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env[name];
}

/**
 * Runs the pipeline on `m` and returns the optimised module; `m` is not modified. Throws a
 * `VerifyError` naming the pass ("after pass fold: ...") when verification is on and a pass
 * produced an invalid module.
 */
export function runPasses(m: Module, opts: RunPassesOptions = {}): Module {
  const verify = opts.verify ?? (env('VITEST') !== undefined || env('KILN_DEBUG') !== undefined);
  const dump = opts.dump ?? (env('KILN_DEBUG') === 'dump'
    ? (pass: string, text: string) => { process.stderr.write(`// ---- after ${pass}\n${text}\n`); }
    : undefined);

  const apply = (p: Pass, label: string, cur: Module): Module => {
    const out = p.run(cur);
    if (verify && out !== cur) checkAfter(label, out);
    if (dump) dump(label, printModule(out));
    return out;
  };

  let cur = m;
  for (const p of opts.passes ?? passes) cur = apply(p, p.name, cur);
  if (opts.passes) return cur;
  for (let round = 2; round <= MAX_CLEANUP_ROUNDS + 1; round++) {
    const before = cur;
    for (const p of cleanupPasses) cur = apply(p, `${p.name}#${round}`, cur);
    if (cur === before) break;
  }
  return cur;
}

function checkAfter(pass: string, m: Module): void {
  try {
    verifyModule(m);
  } catch (e) {
    if (e instanceof VerifyError) throw new VerifyError(`after pass ${pass}: ${e.detail}`, e.loc);
    const msg = e instanceof Error ? e.message : String(e);
    throw new VerifyError(`after pass ${pass}: ${msg}`);
  }
}
