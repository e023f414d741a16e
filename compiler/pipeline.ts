/**
 * @file The compiler's pass pipeline: a flat, named list of `(m: Module) => Module` passes. With
 * `verify` on (tests, `KILN_DEBUG`), the verifier runs after every pass and names the pass that
 * broke the module; `KILN_DEBUG=dump` prints the IR after each pass.
 */
import type { Module } from '../ir/types.js';

export interface Pass {
  name: string;
  run(m: Module): Module;
}
