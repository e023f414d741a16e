/**
 * @file The graph hash: SHA-256 of the canonical print with everything that does not change the
 * meaning left out (SSA names, whitespace, locations, module name and attributes, argument and
 * result attributes such as `jax.result_info`, and the names of private functions, which are
 * renamed in order of first call). Shapes, dtypes, constants and attributes all reach the text.
 */
import { createHash } from 'node:crypto';
import type { Module } from './types.js';
import { parseModule } from './parse/parser.js';
import { printCanonical } from './print.js';

/** Hex SHA-256 of a module's canonical, meaning-only print. */
export function hashModule(m: Module): string {
  return createHash('sha256').update(printCanonical(m, { forHash: true })).digest('hex');
}

/** Parses StableHLO text and hashes it. @throws ParseError like `parseModule`. */
export function hashText(text: string, file?: string): string {
  return hashModule(parseModule(text, file));
}
