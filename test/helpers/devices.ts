/**
 * @file Devices for tests. The GPU device fails loudly when no adapter exists: a GPU test that
 * skips itself is a test that does not exist (CI installs lavapipe; locally `npm run setup:gpu`).
 */
import type { Device } from '../../runtime/device.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import type { WebGPUDevice } from '../../runtime/webgpu/device.js';

let gpu: Promise<WebGPUDevice> | undefined;

/** One shared WebGPU device per test file (Dawn setup is slow on lavapipe). */
export function webgpuDevice(): Promise<WebGPUDevice> {
  gpu ??= import('../../runtime/webgpu/device.js').then(async (m) => {
    try {
      return await m.createWebGPUDevice();
    } catch (e) {
      throw new Error(`no WebGPU adapter: GPU tests need one (run \`npm run setup:gpu\`)${process.env.CI ? ' (CI: failing, not skipping)' : ''}: ${(e as Error).message}`);
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
 * Whether to run an f16 case. An adapter without `shader-f16` skips it locally, but CI's adapter
 * (lavapipe) has the feature, so there its absence fails the test instead of passing it silently.
 */
export function f16Available(has: boolean): boolean {
  if (!has && process.env.CI) throw new Error('the adapter has no shader-f16 in CI (lavapipe has it): the f16 tests would test nothing');
  return has;
}
