/**
 * @file What the WebGPU tests share: the file's device (test/helpers/devices.ts, which fails,
 * never skips, without an adapter: CI installs lavapipe) and parsing.
 */
import { parseModule } from '../../ir/parse/parser.js';
import type { Module } from '../../ir/types.js';

/** The file's device (shared with every other GPU test helper); fails the test without an adapter. */
export { webgpuDevice as gpu, closeWebgpuDevice as closeGpu } from '../helpers/devices.js';

/** Parses a module for a test. */
export function parse(text: string, file?: string): Module {
  return parseModule(text, file);
}
