/**
 * @file The user's call site. Every public kiln function runs through {@link apiCall}, which, on the
 * outermost call only, captures a stack snapshot; the tracer turns it into a {@link Location} (the
 * first frame outside kiln's own files) when it records an op, and trace-time errors name it.
 * Capturing is cheap (V8 formats `.stack` lazily), so cached calls that record nothing pay little.
 */
import { KilnError, type Location } from '../ir/errors.js';

/** A mistake found while tracing: bad shape, axis or dtype, a tracer used outside its trace. */
export class TraceError extends KilnError {
  override name = 'TraceError';
  constructor(detail: string, loc?: Location) { super('KILN_ERR_TRACE', detail, loc); }
}

// Files whose frames are kiln's own: the client/ir/runtime/compiler folders when running from
// source, or the one bundle file (dist/index.js) when running built.
const here = new URL(import.meta.url).pathname;
const ownRoot = /\/client\/site\.[tj]s$/.test(here) ? here.replace(/\/client\/site\.[tj]s$/, '/') : undefined;
const OWN_DIRS = ['client/', 'ir/', 'runtime/', 'compiler/'].map((d) => (ownRoot ?? '') + d);

function isOwnFile(file: string): boolean {
  const path = file.startsWith('file://') ? new URL(file).pathname : file;
  if (ownRoot) return OWN_DIRS.some((d) => path.startsWith(d)) && !path.includes('/node_modules/');
  return path === here;
}

let depth = 0;
let site: Error | undefined;
let siteLoc: Location | null | undefined;
let opName: string | undefined;

/**
 * An Error whose stack reaches the user's frame: V8 keeps 10 frames by default, and a public op
 * called by kiln itself (vjp(np.sin, ...) inside jit) can sit deeper than that. The stack is
 * formatted lazily, so the deeper capture costs little unless an error is reported.
 */
export function deepStack(): Error {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(saved, 64);
  try {
    return new Error();
  } finally {
    Error.stackTraceLimit = saved;
  }
}

/**
 * Runs `body` as the public kiln function `name`. The outermost call records the call site and the
 * name (so errors say `np.sum`, not the internal helper that found the problem).
 */
export function apiCall<T>(name: string, body: () => T): T {
  if (depth > 0) return body();
  const savedSite = site, savedLoc = siteLoc, savedName = opName;
  site = deepStack();
  siteLoc = undefined;
  opName = name;
  depth++;
  try {
    return body();
  } finally {
    depth--;
    site = savedSite;
    siteLoc = savedLoc;
    opName = savedName;
  }
}

/**
 * Runs user code (the function given to `jit`, `grad`, ...) from inside a kiln call: the ops it
 * makes get their own call sites.
 */
export function userCode<T>(body: () => T): T {
  const saved = depth;
  depth = 0;
  try {
    return body();
  } finally {
    depth = saved;
  }
}

/** The public function being called (`np.sum`), for messages. */
export function currentApiName(): string | undefined {
  return opName;
}

/** The user's call site of the current public call, if it can be found. */
export function currentLocation(): Location | undefined {
  if (siteLoc !== undefined) return siteLoc ?? undefined;
  siteLoc = site ? userFrame(site.stack ?? '') ?? null : null;
  return siteLoc ?? undefined;
}

const FRAME = /^\s*at (?:.*?\()?(.+?):(\d+):(\d+)\)?\s*$/;

/** The first stack frame outside kiln's files (or, if all are kiln's, the caller of the API). */
export function userFrame(stack: string): Location | undefined {
  let first: Location | undefined;
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line);
    if (!m || m[1].startsWith('node:') || m[1] === 'native') continue;
    const file = shortFile(m[1]);
    const loc: Location = { file, line: Number(m[2]), column: Number(m[3]), source: `${JSON.stringify(file)}:${m[2]}:${m[3]}` };
    if (!isOwnFile(m[1])) return loc;
    first ??= loc;
  }
  return first;
}

function shortFile(file: string): string {
  const path = file.startsWith('file://') ? new URL(file).pathname : file;
  const cwd = process.cwd() + '/';
  return path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

/** A {@link TraceError} at the current call site, prefixed with the public function's name. */
export function traceError(detail: string): TraceError {
  const name = currentApiName();
  return new TraceError(name ? `${name}: ${detail}` : detail, currentLocation());
}
