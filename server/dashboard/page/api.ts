/**
 * @file The dashboard's client of the kiln server: the same public routes any client uses
 * (/compile as text, /execute as msgpack, /executables as JSON) plus the dashboard's own JSON, each
 * request carrying the token (kept in sessionStorage, so it lasts as long as the tab) as
 * `Authorization: Bearer`.
 */
import { decode, encode } from '@msgpack/msgpack';

const TOKEN_KEY = 'kiln.token';
const MSGPACK = 'application/msgpack';

/** An error reply of the server (`{error: {code, message, line?, column?}}`) or a failed request. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

async function request(method: string, path: string, body?: BodyInit, contentType?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (contentType) headers['content-type'] = contentType;
  let res: Response;
  try {
    res = await fetch(path, { method, body, headers, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the server did not answer ${method} ${path}: ${(e as Error).message}`);
  }
  if (res.ok) return res;
  const type = res.headers.get('content-type') ?? '';
  let err: { code?: string; message?: string; line?: number; column?: number } = {};
  try {
    if (type.includes('json')) err = ((await res.json()) as { error?: typeof err }).error ?? {};
    else if (type.includes('msgpack')) err = (decode(new Uint8Array(await res.arrayBuffer())) as { error?: typeof err }).error ?? {};
  } catch {
    // the status line is all there is
  }
  throw new ApiError(res.status, err.code ?? `HTTP_${res.status}`, err.message ?? `${method} ${path}: ${res.status} ${res.statusText}`, err.line, err.column);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request('GET', path)).json()) as T;
}

export async function postText<T>(path: string, text: string): Promise<T> {
  return (await (await request('POST', path, text, 'text/plain')).json()) as T;
}

export async function postMsgpack<T>(path: string, body: unknown): Promise<T> {
  const res = await request('POST', path, encode(body, { ignoreUndefined: true }), MSGPACK);
  return decode(new Uint8Array(await res.arrayBuffer())) as T;
}

// The shapes of the replies the page reads (see server/routes/*.ts).

export interface TensorTypeJson {
  dtype: string;
  shape: number[];
}

export interface DeviceInfoJson {
  kind: string;
  backend: string;
  adapter: string;
  features?: string[];
  limits?: Record<string, number>;
}

export interface RecentErrorJson {
  at: number;
  method: string;
  url: string;
  code: string;
  message: string;
}

export interface StateJson {
  version: string;
  now: number;
  startedAt: number;
  device: DeviceInfoJson;
  limits: Record<string, number>;
  cache: { executables: number; compiles: number; hits: number };
  executions: { count: number; ms: number };
  buffers: { count: number; bytes: number; listed: { buffer: string; dtype: string; shape: number[]; bytes: number; createdAt: number }[] };
  /** Sessions open (POST /sessions) of the page's tenant, its default session not counted. */
  sessions: number;
  /** The models of every session of the page's tenant. */
  models: ModelJson[];
  seconds: { t: number; requests: number; gpuMs: number }[];
  errors: RecentErrorJson[];
}

/** A registered model as GET /models and the dashboard's state describe it. */
export interface ModelJson {
  session: string;
  name: string;
  inputs: { arg: number; dtype: string; shape: number[] }[];
  weights: { arg: number; tensor?: string; buffer?: string; dtype: string; shape: number[]; bytes: number }[];
  outputs: { dtype: string; shape: number[] }[];
  bytes: number;
  runs: number;
  latencyMs: { mean: number | null };
}

export interface Latency {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  mean: number | null;
}

/** GPU time of one kernel in a profiled run (see server/profile.ts). */
export interface KernelTimeJson {
  name: string;
  dispatches: number;
  ms: number;
}

/** A run's kernel times: `profile` of a run with `profile: true`. */
export interface ProfileJson {
  busyMs: number;
  spanMs: number;
  kernels: KernelTimeJson[];
}

export interface ExecutableJson {
  id: string;
  inputs: TensorTypeJson[];
  outputs: TensorTypeJson[];
  kernels: number;
  bytes: number;
  runs: number;
  createdAt: number;
  latencyMs: Latency;
  /** When its last kernel times were taken, or null if no run of it was profiled. */
  profiledAt: number | null;
}

export interface ExecutableDetailJson extends ExecutableJson {
  ir: string;
  wgsl: { name: string; wgsl: string }[];
  timings: number[];
  kernelTimes: (ProfileJson & { at: number }) | null;
}

export interface CompileJson {
  id: string;
  cached: boolean;
  inputs: TensorTypeJson[];
  outputs: TensorTypeJson[];
  kernels: number;
  bytes: number;
}

export interface ExampleSummaryJson {
  name: string;
  source: string;
  note: string;
}

export interface JsonTensor {
  dtype: string;
  shape: number[];
  data: (number | boolean | null)[];
}

export interface ExampleJson extends ExampleSummaryJson {
  ir: string;
  inputs: JsonTensor[];
  outputs?: JsonTensor[];
}
