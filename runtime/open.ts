/**
 * @file Opening a device by name: `webgpu` (Dawn), `reference` (the interpreter), or `auto`, which
 * picks webgpu when Dawn finds an adapter and otherwise falls back to the reference interpreter
 * with a one-line notice. `KILN_DEVICE` overrides the default.
 */
import { KilnError } from '../ir/errors.js';
import type { Device } from './device.js';
import { ReferenceDevice } from './reference/device.js';

export type DeviceName = 'auto' | 'webgpu' | 'reference';

export function isDeviceName(s: string): s is DeviceName {
  return s === 'auto' || s === 'webgpu' || s === 'reference';
}

/** The device name asked for by `KILN_DEVICE`, else `auto`. */
export function defaultDeviceName(): DeviceName {
  const env = process.env.KILN_DEVICE;
  if (!env) return 'auto';
  if (!isDeviceName(env)) throw new KilnError('KILN_ERR_DEVICE', `KILN_DEVICE=${env}: expected webgpu, reference or auto`);
  return env;
}

export const NO_ADAPTER_NOTICE =
  'kiln: no GPU adapter found, running on the reference interpreter (CPU). ' +
  'For a GPU: install a Vulkan/Metal driver, or a software one with `npm run setup:gpu`.';

/**
 * Opens a device. `auto` never fails for want of a GPU: it prints {@link NO_ADAPTER_NOTICE} to
 * stderr (unless `quiet`) and returns the reference device.
 */
export async function openDevice(name: DeviceName = defaultDeviceName(), opts: { quiet?: boolean } = {}): Promise<Device> {
  if (name === 'reference') return new ReferenceDevice();
  const { createWebGPUDevice } = await import('./webgpu/device.js');
  if (name === 'webgpu') return createWebGPUDevice();
  try {
    return await createWebGPUDevice();
  } catch (e) {
    if (!opts.quiet) process.stderr.write(`${NO_ADAPTER_NOTICE}\n`);
    if (process.env.KILN_DEBUG) process.stderr.write(`kiln: ${(e as Error).message}\n`);
    return new ReferenceDevice();
  }
}
