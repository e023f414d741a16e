/**
 * @file Probe of Dawn's subgroup matrices (tensor cores through WGSL): prints the adapter's
 * features and `subgroupMatrixConfigs`, and where an f16 configuration with square tiles exists,
 * times a plain f16 x f16 -> f32 matmul kernel built on subgroupMatrixLoad /
 * subgroupMatrixMultiplyAccumulate / subgroupMatrixStore (one subgroup per workgroup, a 4x4 grid
 * of tiles per subgroup, operands straight from global memory), checking sampled outputs against
 * the host. A measurement for planning kiln's f16 matmul, not part of kiln.
 *   KILN_DAWN='enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia' node scripts/sgmm-probe.mjs [n]
 */
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const dawn = [];
for (const piece of (process.env.KILN_DAWN ?? '').split(',').filter(Boolean)) {
  if (piece.includes('=') || dawn.length === 0) dawn.push(piece);
  else dawn[dawn.length - 1] += `,${piece}`;
}
dawn.push('disable-dawn-features=timestamp_quantization');
const gpu = create(dawn);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
// Native objects: copy the fields (JSON.stringify sees no own properties).
const configs = [...(adapter.info.subgroupMatrixConfigs ?? [])].map((c) => ({ componentType: c.componentType, resultComponentType: c.resultComponentType, M: c.M, N: c.N, K: c.K }));
console.log(`features: ${[...adapter.features].sort().join(' ')}`);
console.log(`subgroup sizes: ${adapter.info.subgroupMinSize}..${adapter.info.subgroupMaxSize}; matrix configs: ${JSON.stringify(configs)}`);
const want = ['shader-f16', 'chromium-experimental-subgroup-matrix', 'timestamp-query', 'subgroups'];
if (!want.every((f) => adapter.features.has(f))) {
  console.log('sgmm: adapter lacks a needed feature; nothing to time');
  process.exit(0);
}
const cfg = configs.find((c) => c.componentType === 'f16' && c.resultComponentType === 'f32' && c.M === c.N && c.N === c.K)
  ?? configs.find((c) => c.componentType === 'f16' && c.M === c.N && c.N === c.K);
if (!cfg) { console.log('sgmm: no square f16 configuration'); process.exit(0); }
const device = await adapter.requestDevice({ requiredFeatures: want, requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
device.addEventListener('uncapturederror', (e) => console.log(`uncaptured: ${e.error.message}`));
const T = cfg.M, R = cfg.resultComponentType;
const n = Number(process.argv[2] ?? 4096);
const sgSize = adapter.info.subgroupMaxSize;

/** One subgroup computes a (G*T) x (G*T) block of C. */
function shader(G) {
  const L = `subgroup_matrix_left<f16, ${T}, ${T}>`, Rt = `subgroup_matrix_right<f16, ${T}, ${T}>`, Res = `subgroup_matrix_result<${R}, ${T}, ${T}>`;
  const lines = ['enable f16;', 'enable chromium_experimental_subgroup_matrix;',
    '@group(0) @binding(0) var<storage, read> A: array<f16>;',
    '@group(0) @binding(1) var<storage, read> B: array<f16>;',
    `@group(0) @binding(2) var<storage, read_write> C: array<${R}>;`,
    `@compute @workgroup_size(${sgSize})`,
    'fn main(@builtin(workgroup_id) wid: vec3<u32>) {',
    `  let r0 = wid.y * ${G * T}u;`, `  let c0 = wid.x * ${G * T}u;`];
  for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) lines.push(`  var acc${i}${j} = ${Res}();`);
  lines.push(`  for (var k = 0u; k < ${n}u; k = k + ${T}u) {`);
  for (let i = 0; i < G; i++) lines.push(`    let a${i} = subgroupMatrixLoad<${L}>(&A, (r0 + ${i * T}u) * ${n}u + k, false, ${n}u);`);
  for (let j = 0; j < G; j++) lines.push(`    let b${j} = subgroupMatrixLoad<${Rt}>(&B, k * ${n}u + c0 + ${j * T}u, false, ${n}u);`);
  for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) lines.push(`    acc${i}${j} = subgroupMatrixMultiplyAccumulate(a${i}, b${j}, acc${i}${j});`);
  lines.push('  }');
  for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) lines.push(`  subgroupMatrixStore(&C, (r0 + ${i * T}u) * ${n}u + c0 + ${j * T}u, acc${i}${j}, false, ${n}u);`);
  lines.push('}');
  return lines.join('\n');
}

function f16bits(x) {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0];
  const s = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 127 + 15, m = (u >>> 13) & 0x3ff;
  return e <= 0 ? s : s | (e << 10) | m; // truncation is fine for a probe (inputs are exact below)
}
// Inputs are multiples of 1/8 in [-2, 2): exact in f16, and products sum exactly in f32.
const ah = new Uint16Array(n * n), bh = new Uint16Array(n * n), af = new Float32Array(n * n), bf = new Float32Array(n * n);
let s = 12345;
for (let i = 0; i < n * n; i++) {
  s = (s * 1103515245 + 12345) >>> 0; af[i] = ((s >>> 8) % 32 - 16) / 8; ah[i] = f16bits(af[i]);
  s = (s * 1103515245 + 12345) >>> 0; bf[i] = ((s >>> 8) % 32 - 16) / 8; bh[i] = f16bits(bf[i]);
}
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
const A = device.createBuffer({ size: ah.byteLength, usage }), B = device.createBuffer({ size: bh.byteLength, usage });
const C = device.createBuffer({ size: n * n * (R === 'f32' ? 4 : 2), usage });
device.queue.writeBuffer(A, 0, ah); device.queue.writeBuffer(B, 0, bh);
const qs = device.createQuerySet({ type: 'timestamp', count: 64 });
const res = device.createBuffer({ size: 512, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });

for (const G of [1, 2, 4]) {
  if (n % (G * T)) continue;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: shader(G) });
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((m) => m.type === 'error');
  if (errs.length) { console.log(`sgmm G=${G}: WGSL errors: ${errs.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join(' / ')}`); await device.popErrorScope(); continue; }
  const pipe = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [A, B, C].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const e = await device.popErrorScope();
  if (e) { console.log(`sgmm G=${G}: ${e.message}`); continue; }
  const runs = 10;
  const enc = device.createCommandEncoder();
  for (let r = 0; r < runs; r++) {
    const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * r, endOfPassWriteIndex: 2 * r + 1 } });
    pass.setPipeline(pipe); pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(n / (G * T), n / (G * T));
    pass.end();
  }
  const rd = device.createBuffer({ size: 8 * 2 * runs, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  enc.resolveQuerySet(qs, 0, 2 * runs, res, 0);
  enc.copyBufferToBuffer(res, 0, rd, 0, 16 * runs);
  const out = device.createBuffer({ size: C.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  enc.copyBufferToBuffer(C, 0, out, 0, C.size);
  device.queue.submit([enc.finish()]);
  await rd.mapAsync(GPUMapMode.READ); await out.mapAsync(GPUMapMode.READ);
  const t = new BigInt64Array(rd.getMappedRange());
  const ms = [];
  for (let r = 1; r < runs; r++) ms.push(Number(t[2 * r + 1] - t[2 * r]) / 1e6);
  ms.sort((x, y) => x - y);
  const c = R === 'f32' ? new Float32Array(out.getMappedRange()) : null;
  let bad = 0;
  for (let q = 0; q < 64 && c; q++) {
    const i = (q * 977) % n, j = (q * 613) % n;
    let ref = 0;
    for (let k = 0; k < n; k++) ref += af[i * n + k] * bf[k * n + j];
    if (Math.abs(c[i * n + j] - ref) > 1e-3 * Math.max(1, Math.abs(ref))) bad++;
  }
  const med = ms[ms.length >> 1];
  console.log(`sgmm ${n}^3 tile ${T} G=${G}: ${med.toFixed(3)} ms, ${(2 * n ** 3 / med / 1e9).toFixed(1)} TFLOP/s, sampled check ${c ? `${64 - bad}/64 ok` : 'skipped (f16 result)'}`);
  rd.unmap(); out.unmap(); rd.destroy(); out.destroy();
}
process.exit(0);
