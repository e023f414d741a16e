/**
 * @file The WebGPU device the GPU tests share (one per test file), parsing with the shared parser,
 * and the rule that a GPU test fails (never skips) without an adapter: CI installs lavapipe.
 */
import { parseModule } from '../../ir/parse/parser.js';
import type { Module } from '../../ir/types.js';
import { createWebGPUDevice, type WebGPUDevice } from '../../runtime/webgpu/device.js';

let dev: Promise<WebGPUDevice> | undefined;

/** The file's device; rejects with the adapter error (and so fails the test) when there is none. */
export function gpu(): Promise<WebGPUDevice> {
  dev ??= createWebGPUDevice().catch((e: Error) => {
    throw new Error(`GPU tests need a WebGPU adapter${process.env.CI === 'true' ? ' (CI=true: failing, not skipping)' : ''}: ${e.message}`);
  });
  return dev;
}

/** Releases the device so the worker can exit. */
export async function closeGpu(): Promise<void> {
  if (!dev) return;
  const d = await dev.catch(() => undefined);
  d?.destroy();
  dev = undefined;
}

/** Parses a module for a test. */
export function parse(text: string, file?: string): Module {
  return parseModule(text, file);
}
