/**
 * @file Starts real kiln servers on loopback ports for tests and talks to them over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { decode, encode } from '@msgpack/msgpack';
import type { FastifyInstance } from 'fastify';
import { buildApp, type ServerOptions } from '../../server/app.js';
import type { HostTensor } from '../../runtime/tensor.js';
import { decodeTensor, encodeTensor } from '../../runtime/wire.js';

export interface TestServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<TestServer> {
  const app = await buildApp(opts);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, close: () => app.close() };
}

export interface Reply {
  status: number;
  body: any;
}

/** Sends a request; bodies that are not strings or bytes go as msgpack. */
export async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  let payload: string | Uint8Array | undefined;
  const h: Record<string, string> = { ...headers };
  if (typeof body === 'string') {
    payload = body;
    h['content-type'] ??= 'text/plain';
  } else if (body instanceof Uint8Array) {
    payload = body;
    h['content-type'] ??= 'application/msgpack';
  } else if (body !== undefined) {
    payload = encode(body);
    h['content-type'] ??= 'application/msgpack';
  }
  const res = await fetch(url + path, { method, body: payload, headers: h });
  const type = res.headers.get('content-type') ?? '';
  const bytes = new Uint8Array(await res.arrayBuffer());
  let parsed: unknown = bytes;
  if (type.includes('msgpack')) parsed = decode(bytes);
  else if (type.includes('json')) parsed = JSON.parse(new TextDecoder().decode(bytes));
  else parsed = new TextDecoder().decode(bytes);
  return { status: res.status, body: parsed };
}

export const wire = (t: HostTensor) => encodeTensor(t);
export const unwire = (t: unknown) => decodeTensor(t, 'reply');

/**
 * Starts `kiln serve` from the built CLI (dist/cli.js) as a child process on a free loopback port,
 * on WebGPU with `cacheDir`; resolves with its URL once it prints it (15 s at most).
 */
export function serveCli(cacheDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', '0', '--device', 'webgpu', '--cache-dir', cacheDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KILN_DEVICE: '' } });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kiln serve did not start in 15 s: ${out}`)); }, 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.stderr!.on('data', (d) => { out += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kiln serve exited ${code}: ${out}`)); });
  });
}
