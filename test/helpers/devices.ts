/**
 * @file Devices for tests. The GPU device fails loudly when no adapter exists: a GPU test that
 * skips itself is a test that does not exist (CI installs lavapipe; locally `npm run setup:gpu`).
 */
import type { TestContext } from 'vitest';
import type { Device } from '../../runtime/device.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import type { WebGPUDevice } from '../../runtime/webgpu/device.js';

/** The one CI flag of the tests: `CI=true` (or `1`), as `.ci/run` sets it. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** The error of a GPU test on a machine without a WebGPU adapter: it fails, never skips. */
export function noAdapter(e: unknown): Error {
  return new Error(`no WebGPU adapter: GPU tests need one (run \`npm run setup:gpu\`)${IN_CI ? ' (CI: failing, not skipping)' : ''}: ${(e as Error).message}`);
}

let gpu: Promise<WebGPUDevice> | undefined;

/** One shared WebGPU device per test file (Dawn setup is slow on lavapipe). */
export function webgpuDevice(): Promise<WebGPUDevice> {
  gpu ??= import('../../runtime/webgpu/device.js').then(async (m) => {
    try {
      return await m.createWebGPUDevice();
    } catch (e) {
      throw noAdapter(e);
    }
  });
  return gpu;
}

/** Releases the file's WebGPU device, so the worker can exit; the next call opens a new one. */
export async function closeWebgpuDevice(): Promise<void> {
  const d = await gpu?.catch(() => undefined);
  gpu = undefined;
  d?.destroy();
}

export function referenceDevice(): Device {
  return new ReferenceDevice();
}

/**
 * Skips an f16 case, with the reason, on an adapter without `shader-f16`; in CI (lavapipe has the
 * feature) its absence fails the test instead, so the f16 tests never pass by testing nothing.
 */
export function requireF16(has: boolean, ctx: TestContext): void {
  if (has) return;
  if (IN_CI) throw new Error('the adapter has no shader-f16 in CI (lavapipe has it): the f16 tests would test nothing');
  ctx.skip('the adapter has no shader-f16');
}
