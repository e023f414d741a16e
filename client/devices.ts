/**
 * @file The default device. Opening one is asynchronous (Dawn looks for an adapter), but kiln's API
 * is not: the first call that needs a device starts opening it, and work queued before it is open
 * waits on an internal promise (see `Storage.pending` in array.ts). `await ready()` opens it
 * up front. The default is webgpu when Dawn finds an adapter, else the reference interpreter with a
 * one-line notice; `KILN_DEVICE=webgpu|reference|auto` or {@link setDefaultDevice} choose another.
 */
import { openDevice, isDeviceName, type DeviceName } from '../runtime/open.js';
import type { Device } from '../runtime/device.js';
import { ReferenceDevice } from '../runtime/reference/device.js';

let current: Device | undefined;
let opening: Promise<Device> | undefined;
let generation = 0;

function start(open: () => Promise<Device>): Promise<Device> {
  const gen = ++generation;
  current = undefined;
  const p = open().then((d) => {
    if (gen === generation) current = d;
    return d;
  });
  // A failed open is reported to whoever awaits it; keep Node from calling it unhandled meanwhile.
  p.catch(() => {});
  opening = p;
  return p;
}

/** The default device if it is open now; otherwise starts opening it and returns undefined. */
export function deviceNow(): Device | undefined {
  if (current) return current;
  if (!opening) start(() => openDevice());
  return undefined;
}

/** The default device, opening it if needed. */
export function deviceReady(): Promise<Device> {
  if (current) return Promise.resolve(current);
  return opening ?? start(() => openDevice());
}

/**
 * Opens the default device now (a GPU adapter search, or the reference interpreter) and returns it.
 * Optional: the first computation does the same; awaiting it up front moves the notice and any
 * device error to a predictable place.
 */
export function ready(): Promise<Device> {
  return deviceReady();
}

/**
 * Sets the device later computations run on: a {@link Device} (e.g. from `connect`), or a name:
 * `'webgpu'`, `'reference'` or `'auto'`. Arrays already computed move when next used.
 */
export function setDefaultDevice(device: Device | DeviceName): void {
  if (typeof device === 'string') {
    if (!isDeviceName(device)) throw new TypeError(`setDefaultDevice: unknown device '${device}'; expected webgpu, reference or auto`);
    if (device === 'reference') {
      generation++;
      current = new ReferenceDevice();
      opening = Promise.resolve(current);
      return;
    }
    start(() => openDevice(device));
    return;
  }
  generation++;
  current = device;
  opening = Promise.resolve(device);
}

/** The default device (opened if needed). */
export function getDefaultDevice(): Promise<Device> {
  return deviceReady();
}

/**
 * The local devices kiln can use here: webgpu when Dawn finds an adapter, and always the reference
 * interpreter. Each call opens fresh devices; use them with {@link setDefaultDevice}.
 */
export async function devices(): Promise<Device[]> {
  const out: Device[] = [];
  try {
    out.push(await openDevice('webgpu'));
  } catch {
    // no adapter: only the reference device
  }
  out.push(new ReferenceDevice());
  return out;
}
