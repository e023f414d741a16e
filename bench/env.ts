/**
 * @file Opens both libraries on one GPU adapter in this process. One Dawn instance (`create()` of
 * npm `webgpu`) is made here; jax-js finds it as `navigator.gpu` (its Node setup), and kiln is
 * handed the same instance. Each library then requests its own GPUDevice on the high-performance
 * adapter, so both run on the same silicon and driver. kiln requests `timestamp-query` itself and
 * times its kernels with its own profiler (`Device.profile`). jax-js is optional: when it is
 * missing or finds no adapter, the bench still runs kiln and says why jax-js did not run.
 */
import { tmpdir } from 'node:os';
import type * as Jax from '@jax-js/jax';
import { ready, setDefaultDevice } from '../client/index.js';
import type { Device } from '../runtime/device.js';
import { kilnDawnOptions, withPreciseTimestamps } from '../runtime/webgpu/adapter.js';
import { createWebGPUDevice, type WebGPUDeviceOptions } from '../runtime/webgpu/device.js';

export { withPreciseTimestamps };

/** The jax-js module, as its package exports it. */
export type JaxModule = typeof Jax;

/** What the workloads run on. */
export interface BenchEnv {
  /** kiln's WebGPU device, also set as the client's default device. */
  kiln: Device;
  /** jax-js with `webgpu` as its default device, or null (see `jaxReason`). */
  jax: JaxModule | null;
  /** Why jax-js is not running, when `jax` is null. */
  jaxReason?: string;
  /** kiln's adapter as Dawn describes it. */
  adapter: string;
  /** The adapter jax-js's GPUDevice reports (vendor, architecture, device), when it runs. */
  jaxAdapter?: string;
  /** Dawn options both libraries were opened with (see {@link withPreciseTimestamps}). */
  dawn: string[];
  /** jax-js's device has `timestamp-query`, so its kernels can be timed on the GPU. */
  jaxTimestamps: boolean;
  /** Releases both devices so Node can exit. */
  close(): void;
}

/** Options of {@link openEnv}. */
export interface EnvOptions {
  /** Dawn options for `create()`; default `KILN_DAWN` split on commas. */
  dawn?: string[];
  /** Skip jax-js entirely (kiln only). */
  noJax?: boolean;
}

/** Makes `navigator.gpu` the given instance: jax-js's WebGPU backend looks for it there. */
function installNavigator(gpu: GPU): void {
  const existing = (globalThis as { navigator?: object }).navigator;
  // Node 21+ defines a read-only global navigator; replace it with one that has a GPU.
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...(existing ?? {}), gpu, userAgent: 'node' },
    configurable: true,
    writable: true,
  });
}

/** Opens kiln and (unless asked not to, or unavailable) jax-js on one Dawn instance. */
export async function openEnv(opts: EnvOptions = {}): Promise<BenchEnv> {
  // Vulkan loaders warn (and some fail) without a runtime directory.
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  const dawn = kilnDawnOptions(opts.dawn);
  const webgpu = await import('webgpu');
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(webgpu.globals)) if (!(k in g)) g[k] = v;
  const gpu = webgpu.create(dawn);
  installNavigator(gpu);

  const kilnOpts: WebGPUDeviceOptions = { dawn, gpu };
  const kiln = await createWebGPUDevice(kilnOpts);
  setDefaultDevice(kiln);
  await ready();
  const adapter = kiln.info().adapter;

  let jax: JaxModule | null = null;
  let jaxReason: string | undefined;
  let jaxAdapter: string | undefined;
  let jaxTimestamps = false;
  if (opts.noJax) {
    jaxReason = 'jax-js disabled (--no-jax)';
  } else {
    try {
      const mod: JaxModule = await import('@jax-js/jax');
      const started = await mod.init('webgpu');
      if (!started.includes('webgpu')) {
        jaxReason = 'jax-js found no WebGPU adapter through navigator.gpu';
      } else {
        mod.defaultDevice('webgpu');
        const dev = mod.getWebGPUDevice();
        const info = (dev as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
        jaxAdapter = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') : undefined;
        jaxTimestamps = dev.features.has('timestamp-query');
        jax = mod;
      }
    } catch (e) {
      jaxReason = `jax-js could not be loaded: ${(e as Error).message}`;
    }
  }

  return {
    kiln, jax, jaxReason, adapter, jaxAdapter, dawn, jaxTimestamps,
    close() {
      kiln.destroy();
      if (jax) {
        try { jax.getWebGPUDevice().destroy(); } catch { /* already gone */ }
      }
    },
  };
}
