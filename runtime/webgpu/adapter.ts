/**
 * @file Acquiring a WebGPU device through Dawn's node bindings (npm `webgpu`): Dawn options from
 * `KILN_DAWN`, adapter choice by `KILN_ADAPTER`, a compatibility-mode fallback, the adapter's own
 * limits requested in full, the optional features kiln uses (`shader-f16`, `subgroups`,
 * `timestamp-query`, tensor cores through Dawn's subgroup matrices with the toggles that expose them;
 * `KILN_DISABLE_FEATURES` turns any off), and the compiler `Target` derived
 * from them. When no adapter exists the error says how to get a software one (Mesa lavapipe).
 */
import { tmpdir } from 'node:os';
import { DeviceError } from '../../ir/errors.js';
import type { SubgroupMatrixConfig, Target } from '../../compiler/program.js';
import type { DeviceInfo } from '../device.js';

/** Dawn's feature name of subgroup matrices (WGSL `chromium_experimental_subgroup_matrix`). */
export const SUBGROUP_MATRIX = 'chromium-experimental-subgroup-matrix';

export interface AdapterOptions {
  /** Dawn options for `create()` (e.g. `backend=vulkan`); default: `KILN_DAWN`, split on commas. */
  dawn?: string[];
  /** Pick the adapter whose description contains this (case-insensitive); default: `KILN_ADAPTER`. */
  adapter?: string;
  /**
   * A Dawn instance (`create()` of npm `webgpu`) to take the adapter from instead of making one, so
   * that another WebGPU library in the process (the bench's jax-js) shares it. `dawn` is then unused.
   */
  gpu?: GPU;
  /**
   * Optional features not to request even where the adapter has them (e.g. `subgroups`, to test
   * the fallback path); default: `KILN_DISABLE_FEATURES`, split on commas.
   */
  disableFeatures?: string[];
}

/**
 * Optional features kiln asks for when the adapter has them: f16 arithmetic, subgroup operations
 * (reductions), timestamp queries (per-kernel GPU timing, see `WebGPUDevice.profile`), and Dawn's
 * subgroup matrices (tensor cores for f16 matmul; Dawn lists them only under `allow_unsafe_apis`,
 * and they need `subgroups`).
 */
export const OPTIONAL_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query', SUBGROUP_MATRIX] as const;

export interface Acquired {
  /** The `create()` object: kept only as long as the device, so Node can exit afterwards. */
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  info: DeviceInfo;
  target: Target;
  /** Identifies the adapter in executable cache keys. */
  key: string;
}

export const NO_ADAPTER_HELP =
  'no WebGPU adapter found. Install a GPU driver with Vulkan or Metal, or a software adapter (Mesa lavapipe): ' +
  '`npm run setup:gpu` (scripts/setup-gpu.sh) on Debian/Ubuntu. Set KILN_DAWN to pass Dawn options (e.g. backend=vulkan) ' +
  'and KILN_ADAPTER to pick an adapter by name.';

/**
 * Splits `KILN_DAWN`: options are comma-separated, and a piece without `=` continues the previous
 * option's value (`enable-dawn-features=a,b,backend=vulkan` is two options).
 */
export function parseDawnOptions(s: string | undefined): string[] {
  const out: string[] = [];
  for (const piece of (s ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    if (piece.includes('=') || out.length === 0) out.push(piece);
    else out[out.length - 1] += `,${piece}`;
  }
  return out;
}

/** The toggles listed under `disable-dawn-features=` in `dawn`. */
function disabledToggles(dawn: readonly string[]): string[] {
  return dawn.filter((o) => o.startsWith('disable-dawn-features=')).flatMap((o) => o.slice('disable-dawn-features='.length).split(','));
}

/**
 * Adds `toggles` to the Dawn option `key` (`enable-dawn-features=` or `disable-dawn-features=`),
 * creating it where absent and leaving toggles already listed alone.
 */
function withToggles(dawn: readonly string[], key: string, toggles: readonly string[]): string[] {
  const at = dawn.findIndex((o) => o.startsWith(key));
  const have = at < 0 ? [] : dawn[at].slice(key.length).split(',').filter(Boolean);
  const missing = toggles.filter((t) => !have.includes(t));
  if (missing.length === 0) return [...dawn];
  if (at < 0) return [...dawn, `${key}${missing.join(',')}`];
  return dawn.map((o, i) => (i === at ? [o, ...missing].join(',') : o));
}

/**
 * Adds Dawn's `timestamp_quantization` toggle to the disabled ones: by default Dawn rounds
 * timestamps down to 65.536 us (a browser fingerprinting guard), coarser than a small kernel.
 */
export function withPreciseTimestamps(dawn: readonly string[]): string[] {
  return withToggles(dawn, 'disable-dawn-features=', ['timestamp_quantization']);
}

/**
 * Dawn toggles kiln enables by default so that tensor cores are used without the user asking:
 * `allow_unsafe_apis` makes Dawn list its experimental subgroup matrices (the f16 matmul kernel of
 * compiler/codegen/matmul-sgmm.ts), and `vulkan_enable_f16_on_nvidia` lets Dawn offer `shader-f16`
 * on NVIDIA's Vulkan driver, where it is off by default. kiln requests only the features it uses
 * (OPTIONAL_FEATURES), so the toggles change nothing on adapters without them.
 */
export const TENSOR_CORE_TOGGLES = ['allow_unsafe_apis', 'vulkan_enable_f16_on_nvidia'] as const;

/**
 * Adds {@link TENSOR_CORE_TOGGLES} to the enabled toggles, except those the options disable
 * (`disable-dawn-features=allow_unsafe_apis` keeps Dawn's safe default) and all of them when `off`
 * (`KILN_TENSOR_CORES=0`).
 */
export function withTensorCoreToggles(dawn: readonly string[], off = process.env.KILN_TENSOR_CORES === '0'): string[] {
  if (off) return [...dawn];
  const disabled = disabledToggles(dawn);
  return withToggles(dawn, 'enable-dawn-features=', TENSOR_CORE_TOGGLES.filter((t) => !disabled.includes(t)));
}

/**
 * Adds Dawn's `disable_robustness` toggle to the enabled ones unless `KILN_BOUNDS_CHECKS=1`: by
 * default Dawn clamps every index into a storage buffer, workgroup array or private array it
 * cannot prove in bounds. kiln's generated kernels index in bounds by construction (guards on
 * tails, explicit clamps where StableHLO defines out-of-range behaviour, as gather and
 * dynamic_slice do), so the clamps only cost time: measured on an H200 they took 12% of a 4096^3
 * matmul and a third of a layer norm. Set `KILN_BOUNDS_CHECKS=1` (or list the toggle under
 * `disable-dawn-features=`) to keep them, e.g. while debugging a kernel.
 */
export function withoutBoundsChecks(dawn: readonly string[], keep = process.env.KILN_BOUNDS_CHECKS === '1'): string[] {
  if (keep || disabledToggles(dawn).includes('disable_robustness')) return [...dawn];
  return withToggles(dawn, 'enable-dawn-features=', ['disable_robustness']);
}

/**
 * The Dawn options kiln creates its instance with: `dawn` (default `KILN_DAWN`, split on commas)
 * plus precise timestamps, the tensor-core toggles and no bounds checks, each unless turned off.
 */
export function kilnDawnOptions(dawn: readonly string[] = parseDawnOptions(process.env.KILN_DAWN)): string[] {
  return withoutBoundsChecks(withTensorCoreToggles(withPreciseTimestamps(dawn)));
}

/**
 * The adapter's subgroup-matrix configurations in the compiler's terms. Dawn's objects are native
 * wrappers (no own properties), so each field is read one by one.
 */
export function subgroupMatrixConfigs(info: GPUAdapterInfo): SubgroupMatrixConfig[] {
  const raw = (info as GPUAdapterInfo & { subgroupMatrixConfigs?: readonly Record<string, unknown>[] }).subgroupMatrixConfigs ?? [];
  return [...raw].map((c) => ({
    m: Number(c.M), n: Number(c.N), k: Number(c.K), component: String(c.componentType), result: String(c.resultComponentType),
  }));
}

let webgpuModule: Promise<typeof import('webgpu')> | undefined;

async function loadDawn(): Promise<typeof import('webgpu')> {
  // Vulkan loaders warn (and some fail) without a runtime directory.
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  webgpuModule ??= import('webgpu').then((m) => {
    // GPUBufferUsage, GPUMapMode and friends, where the host does not define them already.
    const g = globalThis as Record<string, unknown>;
    for (const [k, v] of Object.entries(m.globals)) if (!(k in g)) g[k] = v;
    return m;
  });
  try {
    return await webgpuModule;
  } catch (e) {
    webgpuModule = undefined;
    throw new DeviceError(`cannot load Dawn (npm package webgpu): ${(e as Error).message}. ${NO_ADAPTER_HELP}`);
  }
}

function describeAdapter(a: GPUAdapter): string {
  const i = a.info;
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ').trim() || 'unknown adapter';
}

async function findAdapter(gpu: GPU, want: string | undefined): Promise<{ adapter: GPUAdapter | null; seen: string[] }> {
  const seen: string[] = [];
  const tries: GPURequestAdapterOptions[] = [
    { powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, {},
    // Compatibility mode (OpenGL ES and older drivers).
    { featureLevel: 'compatibility' } as GPURequestAdapterOptions,
  ];
  for (const opts of tries) {
    let a: GPUAdapter | null = null;
    try { a = await gpu.requestAdapter(opts); } catch { a = null; }
    if (!a) continue;
    const d = describeAdapter(a);
    if (!seen.includes(d)) seen.push(d);
    if (!want || d.toLowerCase().includes(want.toLowerCase())) return { adapter: a, seen };
  }
  return { adapter: null, seen };
}

/** Creates the Dawn instance, picks an adapter and requests a device with the adapter's limits. */
export async function acquireDevice(opts: AdapterOptions = {}): Promise<Acquired> {
  const { create } = await loadDawn();
  const dawn = kilnDawnOptions(opts.dawn);
  const want = opts.adapter ?? process.env.KILN_ADAPTER;
  let gpu: GPU;
  try { gpu = opts.gpu ?? create(dawn); } catch (e) { throw new DeviceError(`Dawn create(${JSON.stringify(dawn)}) failed: ${(e as Error).message}. ${NO_ADAPTER_HELP}`); }
  let { adapter, seen } = await findAdapter(gpu, want);
  if (!adapter && want) {
    // Dawn can also select by its own adapter name.
    try {
      gpu = create([...dawn, `adapter=${want}`]);
      ({ adapter } = await findAdapter(gpu, undefined));
    } catch { adapter = null; }
  }
  if (!adapter) {
    if (want && seen.length) throw new DeviceError(`KILN_ADAPTER=${want} matches no adapter; found: ${seen.join('; ')}`);
    throw new DeviceError(NO_ADAPTER_HELP);
  }
  const lim = adapter.limits;
  const wanted = [
    'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize', 'maxBufferSize', 'maxBindingsPerBindGroup', 'maxUniformBufferBindingSize',
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of wanted) if (typeof lim[k] === 'number') requiredLimits[k] = lim[k];
  const off = new Set(opts.disableFeatures ?? (process.env.KILN_DISABLE_FEATURES ?? '').split(',').map((f) => f.trim()).filter(Boolean));
  let features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !off.has(f)) as string[];
  if (!features.includes('subgroups')) features = features.filter((f) => f !== SUBGROUP_MATRIX);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features as GPUFeatureName[], label: 'kiln' });
  } catch (e) {
    throw new DeviceError(`requestDevice on ${describeAdapter(adapter)} failed: ${(e as Error).message}`);
  }
  const dl = device.limits;
  const target: Target = {
    maxWorkgroupSize: Math.min(dl.maxComputeInvocationsPerWorkgroup, dl.maxComputeWorkgroupSizeX),
    maxWorkgroupsPerDim: dl.maxComputeWorkgroupsPerDimension,
    // One binding is the uniform block; storage buffers are counted apart from it.
    maxStorageBuffers: dl.maxStorageBuffersPerShaderStage,
    maxWorkgroupStorage: dl.maxComputeWorkgroupStorageSize,
    f16: device.features.has('shader-f16'),
    subgroups: device.features.has('subgroups' as GPUFeatureName),
  };
  // A CPU rasterizer (lavapipe, SwiftShader): Dawn reports it as the fallback adapter.
  const ai = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  if (ai.isFallbackAdapter || ai.architecture === 'software') target.cpu = true;
  if (device.features.has(SUBGROUP_MATRIX as GPUFeatureName)) {
    target.subgroupMatrix = subgroupMatrixConfigs(adapter.info);
    target.subgroupMaxSize = adapter.info.subgroupMaxSize;
  }
  const description = describeAdapter(adapter);
  const backend = /llvmpipe|lavapipe|swiftshader/i.test(description) ? 'vulkan' : (adapter.info.architecture ? 'gpu' : 'gpu');
  const limits: Record<string, number> = {};
  for (const k of wanted) limits[k] = dl[k];
  const info: DeviceInfo = { kind: 'webgpu', backend: backendOf(dawn, description, backend), adapter: description, features: [...device.features].sort(), limits };
  return { gpu, adapter, device, info, target, key: `${description}|f16=${target.f16}|${JSON.stringify(target)}` };
}

function backendOf(dawn: string[], description: string, fallback: string): string {
  const opt = dawn.find((o) => o.startsWith('backend='));
  if (opt) return opt.slice('backend='.length);
  if (process.platform === 'darwin') return 'metal';
  if (process.platform === 'win32') return 'd3d12';
  return /opengl|angle/i.test(description) ? 'opengles' : fallback === 'gpu' ? 'vulkan' : fallback;
}
