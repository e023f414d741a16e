/**
 * @file Soak/load test of `kiln serve` over loopback: starts the server as a child process, runs
 * N concurrent clients for a bounded number of requests (and a bounded time), and checks
 *   - every result bit-exact against the reference interpreter run in this process;
 *   - the server's RSS (/proc/PID/status) flat within a tolerance after warm-up;
 *   - after the sessions the clients abandoned expire, nothing of theirs is left on the server
 *     (its own accounting: kiln_sessions, kiln_buffers, kiln_resident_bytes in /metrics; a read
 *     of an expired session's buffer says it expired).
 * The request mix, each client in a session of its own (X-Kiln-Session) that it replaces after
 * 20-80 requests, deleting it or leaving it to expire: compile (ids checked against the local
 * graph hash), run (IR and inputs in one request), upload, execute on uploaded buffers keeping the
 * output, fetch of a kept buffer, free of one. Programs use only exactly rounded or integer ops
 * (f32 add/subtract/max/negate, i32 multiply/add/xor), so any device must match bit for bit.
 *
 *   npm run soak -- [--clients 64] [--requests 10000] [--time-limit 600] [--device webgpu|reference]
 *                   [--session-ttl 5] [--warmup 10000] [--rss-tolerance 0.10]
 * Exits 1 when a check fails. test/server/soak.test.ts runs it small (8 clients x 200 requests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decode, encode } from '@msgpack/msgpack';
import { hashModule } from '../ir/hash.js';
import { parseModule } from '../ir/parse/parser.js';
import { verifyModule } from '../ir/verify.js';
import { ReferenceDevice } from '../runtime/reference/device.js';
import { hostTensor, toBytes, type HostTensor } from '../runtime/tensor.js';
import { decodeTensor, encodeTensor } from '../runtime/wire.js';
import type { Executable } from '../runtime/device.js';

export interface SoakOptions {
  clients: number;
  requests: number;
  /** Seconds the requests may take in all (the expiry wait and start-up not counted). */
  timeLimitS: number;
  device: 'webgpu' | 'reference';
  /** The server's --session-ttl and --request-timeout, seconds. */
  sessionTtlS: number;
  /**
   * Requests of the same mix (and checks) sent before the measured ones, whose RSS samples do not
   * count: on lavapipe the server's RSS climbs for about 10,000 requests of 64 clients (heap and
   * allocator growth), then stays flat (40,000 requests: 358-385 MiB after the first 10,000).
   */
  warmup: number;
  /** Largest (max - min) / min of the RSS samples after warm-up. */
  rssTolerance: number;
  /** The `kiln` CLI to start (built: dist/cli.js). */
  cli: string;
  log: (line: string) => void;
}

export const DEFAULT_SOAK: SoakOptions = {
  clients: 64, requests: 10_000, timeLimitS: 600, device: 'webgpu', sessionTtlS: 5,
  warmup: 10_000, rssTolerance: 0.10, cli: 'dist/cli.js', log: (l) => process.stdout.write(`${l}\n`),
};

type Kind = 'session' | 'end-session' | 'compile' | 'run' | 'upload' | 'execute' | 'fetch' | 'free';
const KINDS: Kind[] = ['session', 'end-session', 'compile', 'run', 'upload', 'execute', 'fetch', 'free'];

export interface SoakResult {
  ok: boolean;
  failures: string[];
  requests: number;
  wallS: number;
  perKind: Record<Kind, { n: number; failed: number; ms: number[] }>;
  rss: { samples: number; warmupMiB: number; minMiB: number; maxMiB: number; lastMiB: number; spread: number; byTenth: number[] };
  sessions: { created: number; deleted: number; abandoned: number; expiredMetric: number };
  leftAfterExpiry: { sessions: number; buffers: number; residentBytes: number };
  compiles: number;
  table: string;
}

const N = 64;
interface Program { text: string; id: string; dtype: 'f32' | 'i32'; exe: Executable }

/** The programs the clients use: eight of f32, eight of i32, each with its own constant. */
function programs(): Omit<Program, 'exe'>[] {
  const out: Omit<Program, 'exe'>[] = [];
  for (let k = 0; k < 8; k++) {
    const t = `tensor<${N}xf32>`;
    out.push({ dtype: 'f32', id: '', text: `func.func @main(%a: ${t}, %b: ${t}) -> ${t} {
  %c = stablehlo.constant dense<${k}.5> : ${t}
  %0 = stablehlo.add %a, %b : ${t}
  %1 = stablehlo.maximum %0, %c : ${t}
  %2 = stablehlo.subtract %1, %a : ${t}
  %3 = stablehlo.negate %2 : ${t}
  return %3 : ${t}
}` });
    const u = `tensor<${N}xi32>`;
    out.push({ dtype: 'i32', id: '', text: `func.func @main(%a: ${u}, %b: ${u}) -> ${u} {
  %c = stablehlo.constant dense<${1_000_003 * (k + 1)}> : ${u}
  %0 = stablehlo.multiply %a, %b : ${u}
  %1 = stablehlo.add %0, %c : ${u}
  %2 = stablehlo.xor %1, %b : ${u}
  return %2 : ${u}
}` });
  }
  return out;
}

/** A deterministic generator (mulberry32), so a failing run can be repeated. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(dtype: 'f32' | 'i32', r: () => number): HostTensor {
  const v: number[] = [];
  for (let i = 0; i < N; i++) v.push(dtype === 'f32' ? Math.fround((r() - 0.5) * 2 ** (r() * 40 - 20)) : Math.floor(r() * 2 ** 32) - 2 ** 31);
  return hostTensor(dtype, [N], v);
}

function sameBits(a: HostTensor, b: HostTensor): boolean {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  const x = toBytes(a);
  const y = toBytes(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The interpreter's answer, computed in this process. */
async function expected(ref: ReferenceDevice, p: Program, inputs: HostTensor[]): Promise<HostTensor> {
  const ins = inputs.map((t) => ref.upload(t));
  const [out] = ref.execute(p.exe, ins);
  const t = await ref.read(out);
  for (const a of [...ins, out]) ref.free(a);
  return t;
}

async function startServer(o: SoakOptions, cacheDir: string): Promise<{ child: ChildProcess; url: string; line: string }> {
  const child = spawn(process.execPath, [o.cli, 'serve', '--port', '0', '--device', o.device, '--cache-dir', cacheDir,
    '--session-ttl', String(o.sessionTtlS), '--request-timeout', String(o.sessionTtlS)],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KILN_DEVICE: '' } });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kiln serve did not start in 60 s: ${out}${err}`)); }, 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+) (.*)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1], line: m[0] }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kiln serve exited ${code}: ${out}${err}`)); });
  });
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

interface Reply { status: number; body: any }

async function http(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const h: Record<string, string> = { ...headers };
  let payload: string | Uint8Array | undefined;
  if (typeof body === 'string') { payload = body; h['content-type'] = 'text/plain'; } else if (body !== undefined) { payload = encode(body); h['content-type'] = 'application/msgpack'; }
  const res = await fetch(url + path, { method, body: payload, headers: h });
  const type = res.headers.get('content-type') ?? '';
  const bytes = new Uint8Array(await res.arrayBuffer());
  const parsed = type.includes('msgpack') ? decode(bytes) : type.includes('json') ? JSON.parse(new TextDecoder().decode(bytes)) : new TextDecoder().decode(bytes);
  return { status: res.status, body: parsed };
}

export async function soak(opts: Partial<SoakOptions> = {}): Promise<SoakResult> {
  const o: SoakOptions = { ...DEFAULT_SOAK, ...opts };
  const failures: string[] = [];
  const fail = (s: string) => { if (failures.length < 20) failures.push(s); else if (failures.length === 20) failures.push('(more failures not shown)'); };
  const ref = new ReferenceDevice();
  const progs: Program[] = programs().map((p) => {
    const m = parseModule(p.text, 'soak.mlir');
    verifyModule(m);
    return { ...p, id: hashModule(m), exe: ref.compile(m) };
  });
  const cacheDir = mkdtempSync(join(tmpdir(), 'kiln-soak-'));
  const { child, url, line } = await startServer(o, cacheDir);
  o.log(line);
  const pid = child.pid!;
  const bad = (r: Reply, what: string) => `${what}: HTTP ${r.status} ${JSON.stringify(r.body?.error ?? r.body).slice(0, 300)}`;
  const perKind = Object.fromEntries(KINDS.map((k) => [k, { n: 0, failed: 0, ms: [] as number[] }])) as SoakResult['perKind'];
  const sessions = { created: 0, deleted: 0, abandoned: 0, expiredMetric: 0 };
  const rss: { done: number; kib: number }[] = [];
  // Warm-up outside the count: every program compiled and run once, so compiles (pipelines, the
  // cache's executables) are not what the RSS samples measure.
  for (const p of progs) {
    const r = rng(1);
    const x = await http(url, 'POST', '/run', { ir: p.text, inputs: [randomTensor(p.dtype, r), randomTensor(p.dtype, r)].map(encodeTensor) });
    if (x.status !== 200) fail(bad(x, 'warm-up POST /run'));
  }
  let issued = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + o.timeLimitS * 1000;
  const sampler = setInterval(() => { try { rssKiB(pid) && rss.push({ done, kib: rssKiB(pid) }); } catch { /* exited */ } }, 50);
  const abandonedHandles: { session: string; handle: string }[] = [];

  const timed = async (kind: Kind, f: () => Promise<string | undefined>) => {
    const t0 = performance.now();
    let why: string | undefined;
    try { why = await f(); } catch (e) { why = (e as Error).message; }
    const s = perKind[kind];
    s.n++;
    s.ms.push(performance.now() - t0);
    done++;
    if (why !== undefined) { s.failed++; fail(`${kind}: ${why}`); }
  };

  async function client(c: number): Promise<void> {
    const r = rng(0x5eed + c);
    let session: string | undefined;
    let left = 0;
    /** This session's buffers and the bits each must hold. */
    let held = new Map<string, HostTensor>();
    let next = 0;
    const take = () => issued < o.warmup + o.requests && performance.now() < deadline && (issued++, true);
    while (take()) {
      const hdr = (): Record<string, string> => (session ? { 'x-kiln-session': session } : {});
      if (!session || left <= 0) {
        if (session) {
          const s = session;
          const mine = held;
          if (r() < 0.5) {
            await timed('end-session', async () => {
              const x = await http(url, 'DELETE', `/sessions/${s}`);
              if (x.status !== 200) return bad(x, `DELETE /sessions/${s}`);
              if (x.body.buffers !== mine.size) return `DELETE /sessions/${s} freed ${x.body.buffers} buffers; the session held ${mine.size}`;
              sessions.deleted++;
              return undefined;
            });
            session = undefined;
            continue;
          }
          sessions.abandoned++;
          const first = mine.keys().next();
          if (!first.done && abandonedHandles.length < 32) abandonedHandles.push({ session: s, handle: first.value });
        }
        await timed('session', async () => {
          const x = await http(url, 'POST', '/sessions');
          if (x.status !== 200) return bad(x, 'POST /sessions');
          session = x.body.session;
          sessions.created++;
          return undefined;
        });
        held = new Map();
        left = 20 + Math.floor(r() * 61);
        continue;
      }
      left--;
      const p = progs[Math.floor(r() * progs.length)];
      const roll = r();
      if (roll < 0.15) {
        await timed('compile', async () => {
          const x = await http(url, 'POST', '/compile', p.text, hdr());
          if (x.status !== 200) return bad(x, 'POST /compile');
          return x.body.id === p.id ? undefined : `POST /compile answered id ${x.body.id}; the graph hash is ${p.id}`;
        });
      } else if (roll < 0.5) {
        const inputs = [randomTensor(p.dtype, r), randomTensor(p.dtype, r)];
        const want = await expected(ref, p, inputs);
        await timed('run', async () => {
          const x = await http(url, 'POST', '/run', { ir: p.text, inputs: inputs.map(encodeTensor) }, hdr());
          if (x.status !== 200) return bad(x, 'POST /run');
          return sameBits(decodeTensor(x.body.outputs[0], 'reply'), want) ? undefined : `POST /run of ${p.id.slice(0, 12)}: result differs from the reference interpreter`;
        });
      } else if (roll < 0.65 || held.size < 2) {
        if (held.size >= 24) {
          const h = [...held.keys()][Math.floor(r() * held.size)];
          await timed('free', async () => {
            const x = await http(url, 'DELETE', `/buffers/${h}`, undefined, hdr());
            held.delete(h);
            return x.status === 200 ? undefined : bad(x, `DELETE /buffers/${h}`);
          });
          continue;
        }
        const t = randomTensor(r() < 0.5 ? 'f32' : 'i32', r);
        const h = `b${c}-${next++}`;
        await timed('upload', async () => {
          const x = await http(url, 'POST', '/buffers', { ...encodeTensor(t), handle: h }, hdr());
          if (x.status !== 200) return bad(x, 'POST /buffers');
          held.set(h, t);
          return x.body.buffer === h ? undefined : `POST /buffers answered handle ${x.body.buffer}, asked ${h}`;
        });
      } else if (roll < 0.8) {
        const ofType = [...held.entries()].filter(([, t]) => t.dtype === p.dtype);
        if (ofType.length === 0) { issued--; left++; continue; }
        const [ha, ta] = ofType[Math.floor(r() * ofType.length)];
        const tb = randomTensor(p.dtype, r);
        const want = await expected(ref, p, [ta, tb]);
        const h = `k${c}-${next++}`;
        await timed('execute', async () => {
          const x = await http(url, 'POST', '/execute', { executable: p.id, inputs: [{ buffer: ha }, encodeTensor(tb)], keep: [true], handles: [h] }, hdr());
          if (x.status === 404 && /executable/i.test(JSON.stringify(x.body))) {
            // Not compiled yet by anyone: compile, then execute (two requests, counted as one).
            const y = await http(url, 'POST', '/compile', p.text, hdr());
            if (y.status !== 200) return bad(y, 'POST /compile before /execute');
            const z = await http(url, 'POST', '/execute', { executable: p.id, inputs: [{ buffer: ha }, encodeTensor(tb)], keep: [true], handles: [h] }, hdr());
            if (z.status !== 200) return bad(z, 'POST /execute');
          } else if (x.status !== 200) return bad(x, 'POST /execute');
          held.set(h, want);
          return undefined;
        });
      } else {
        const hs = [...held.keys()];
        const h = hs[Math.floor(r() * hs.length)];
        await timed('fetch', async () => {
          const x = await http(url, 'GET', `/buffers/${h}`, undefined, hdr());
          if (x.status !== 200) return bad(x, `GET /buffers/${h}`);
          return sameBits(decodeTensor(x.body, 'reply'), held.get(h)!) ? undefined : `GET /buffers/${h}: bits differ from what was uploaded or computed`;
        });
      }
    }
    if (session) { sessions.abandoned++; const first = held.keys().next(); if (!first.done && abandonedHandles.length < 32) abandonedHandles.push({ session, handle: first.value }); }
  }

  let result: SoakResult;
  try {
    await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
    const wallS = (performance.now() - start) / 1000;
    clearInterval(sampler);
    if (done < o.warmup + o.requests) fail(`only ${done} of ${o.warmup} + ${o.requests} requests finished in the ${o.timeLimitS} s limit`);

    // Every abandoned session expires, and with it everything it held.
    const waitUntil = performance.now() + (o.sessionTtlS * 2 + 10) * 1000;
    let m = '';
    for (;;) {
      m = (await http(url, 'GET', '/metrics')).body as string;
      if (metric(m, 'kiln_sessions') === 0 && metric(m, 'kiln_buffers') === 0) break;
      if (performance.now() > waitUntil) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    const left = { sessions: metric(m, 'kiln_sessions'), buffers: metric(m, 'kiln_buffers'), residentBytes: metric(m, 'kiln_resident_bytes') };
    sessions.expiredMetric = metric(m, 'kiln_sessions_expired_total');
    if (left.sessions !== 0 || left.buffers !== 0 || left.residentBytes !== 0) {
      fail(`after expiry the server still holds ${left.sessions} sessions, ${left.buffers} buffers, ${left.residentBytes} bytes`);
    }
    if (sessions.expiredMetric !== sessions.abandoned) fail(`${sessions.abandoned} sessions were abandoned, but kiln_sessions_expired_total is ${sessions.expiredMetric}`);
    for (const { session, handle } of abandonedHandles.slice(0, 4)) {
      const x = await http(url, 'GET', `/buffers/${handle}`, undefined, { 'x-kiln-session': session });
      if (x.status < 400 || !/expired/.test(JSON.stringify(x.body))) fail(`a buffer of expired session ${session} answered ${x.status} ${JSON.stringify(x.body).slice(0, 200)}`);
    }

    const after = rss.filter((s) => s.done >= o.warmup).map((s) => s.kib);
    const warm = after[0] ?? NaN;
    const min = Math.min(...after);
    const max = Math.max(...after);
    const spread = (max - min) / min;
    if (after.length < 5) fail(`only ${after.length} RSS samples after warm-up`);
    else if (!(spread <= o.rssTolerance)) fail(`RSS after warm-up ranged ${(min / 1024).toFixed(1)}-${(max / 1024).toFixed(1)} MiB: ${(spread * 100).toFixed(1)}% > ${o.rssTolerance * 100}%`);
    const mib = (k: number) => k / 1024;
    result = {
      ok: failures.length === 0, failures, requests: done, wallS, perKind,
      rss: {
        samples: after.length, warmupMiB: mib(warm), minMiB: mib(min), maxMiB: mib(max), lastMiB: mib(after[after.length - 1] ?? NaN), spread,
        // The last sample of each tenth of the requests: a trend reads better than the extremes.
        byTenth: Array.from({ length: 10 }, (_, i) => mib(rss.filter((s) => s.done <= o.warmup + ((i + 1) * o.requests) / 10).at(-1)?.kib ?? NaN)),
      },
      sessions, leftAfterExpiry: left, compiles: metric(m, 'kiln_compiles_total'), table: '',
    };
    result.table = table(result, o);
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((res) => { if (child.exitCode !== null) res(undefined); else child.once('exit', res); });
    rmSync(cacheDir, { recursive: true, force: true });
    ref.destroy();
  }
  return result;
}

function pct(ms: number[], q: number): number {
  if (ms.length === 0) return NaN;
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function table(r: SoakResult, o: SoakOptions): string {
  const rows = [`| request | count | failed | p50 ms | p99 ms | max ms |`, `|---|---:|---:|---:|---:|---:|`];
  for (const k of KINDS) {
    const s = r.perKind[k];
    rows.push(`| ${k} | ${s.n} | ${s.failed} | ${pct(s.ms, 0.5).toFixed(1)} | ${pct(s.ms, 0.99).toFixed(1)} | ${Math.max(0, ...s.ms).toFixed(1)} |`);
  }
  const f = (x: number) => x.toFixed(1);
  rows.push('',
    `${r.requests} requests (${o.warmup} of warm-up, then ${o.requests} measured) from ${o.clients} clients on ${o.device} in ${f(r.wallS)} s (${f(r.requests / r.wallS)} requests/s); ${r.compiles} compiles`,
    `server RSS after warm-up (${r.rss.samples} samples): first ${f(r.rss.warmupMiB)} MiB, min ${f(r.rss.minMiB)}, max ${f(r.rss.maxMiB)}, last ${f(r.rss.lastMiB)}: spread ${(r.rss.spread * 100).toFixed(1)}% (limit ${o.rssTolerance * 100}%)`,
    `server RSS at each tenth of the measured requests, MiB: ${r.rss.byTenth.map(f).join(' ')}`,
    `sessions: ${r.sessions.created} created, ${r.sessions.deleted} deleted, ${r.sessions.abandoned} abandoned, ${r.sessions.expiredMetric} expired; left after expiry: ${r.leftAfterExpiry.sessions} sessions, ${r.leftAfterExpiry.buffers} buffers, ${r.leftAfterExpiry.residentBytes} bytes`,
    r.ok ? 'soak: ok' : `soak: FAILED\n  ${r.failures.join('\n  ')}`);
  return rows.join('\n');
}

function parseArgs(argv: string[]): Partial<SoakOptions> {
  const o: Partial<SoakOptions> = {};
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} ${v}: expected a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--clients': o.clients = num(a, v); i++; break;
      case '--requests': o.requests = num(a, v); i++; break;
      case '--time-limit': o.timeLimitS = num(a, v); i++; break;
      case '--session-ttl': o.sessionTtlS = num(a, v); i++; break;
      case '--warmup': o.warmup = Number(v); if (!(o.warmup >= 0)) throw new Error(`--warmup ${v}: expected a count of requests`); i++; break;
      case '--rss-tolerance': o.rssTolerance = num(a, v); i++; break;
      case '--cli': o.cli = v; i++; break;
      case '--device':
        if (v !== 'webgpu' && v !== 'reference') throw new Error(`--device ${v}: expected webgpu or reference`);
        o.device = v; i++; break;
      default: throw new Error(`soak: unknown argument ${a}`);
    }
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  soak(parseArgs(process.argv.slice(2))).then(
    (r) => { process.stdout.write(`${r.table}\n`); process.exitCode = r.ok ? 0 : 1; },
    (e) => { process.stderr.write(`soak: ${(e as Error).stack ?? e}\n`); process.exitCode = 1; },
  );
}
