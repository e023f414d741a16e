/**
 * @file The public face of `ir/`: types, op table, parser, printer, verifier and hash.
 */
export * from './dtype.js';
export * from './errors.js';
export * from './ops.js';
export * from './types.js';
export * from './shapes.js';
export * from './verify.js';
export * from './parse/parser.js';
export * from './print.js';
export * from './hash.js';
export * from './coverage.js';
