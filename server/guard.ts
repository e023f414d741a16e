/**
 * @file Who may talk to the server: the token check, and without a token the loopback guard
 * against DNS rebinding and cross-site requests. A server without a token trusts whoever can reach
 * its loopback port, and a web page the user opens can reach it too: through a name of the
 * attacker's that resolves to 127.0.0.1 (DNS rebinding: the request carries the attacker's Host),
 * or by posting to it from another origin (a `text/plain` POST needs no CORS preflight, so the
 * browser sends it and only hides the reply). Refusing foreign Host names and foreign Origins
 * closes both; with a token neither attack has the token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { describeValue } from '../runtime/wire.js';
import { HttpError } from './errors.js';

/** Whether `host` (a name or address, IPv6 with or without brackets) is this machine's loopback. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '[::1]') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** `host[:port]` of a Host header or URL authority, without the port. */
function hostName(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

/**
 * Without a token: refuses (403 KILN_ERR_FORBIDDEN) a request whose Host is not a loopback name,
 * a request from a browser page of another origin (an `Origin` header other than this server's own
 * `http://<Host>`, including `null`), and one a browser marks `Sec-Fetch-Site: cross-site`. The
 * dashboard's own requests are same-origin and pass; so do clients that send no Origin (curl,
 * Python, Node's fetch).
 */
export function checkLoopbackRequest(req: FastifyRequest): void {
  const host = req.headers.host;
  if (typeof host !== 'string' || !isLoopback(hostName(host))) {
    throw new HttpError('KILN_ERR_FORBIDDEN',
      `Host ${describeValue(host ?? '')} is not a loopback name; this server has no token, so it answers only requests addressed to localhost, 127.0.0.1 or [::1] (start it with --token to serve other names)`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) {
    throw new HttpError('KILN_ERR_FORBIDDEN',
      `a request from the web page ${describeValue(origin)} to this server (${host}) is refused: without a token only the server's own pages may call it (start it with --token to allow other clients)`);
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') {
    throw new HttpError('KILN_ERR_FORBIDDEN', 'a cross-site browser request is refused: this server has no token');
  }
}

/** The paths that need no token: the health check and the dashboard page itself (it holds nothing of the server's). */
export function isPublicPath(path: string): boolean {
  return path === '/health' || path === '/' || path.startsWith('/assets/');
}

/**
 * With tokens: returns the tenant whose token the request presents as `Authorization: Bearer T` or
 * `X-Kiln-Token: T` (the second for clients behind a proxy that uses Authorization), or refuses
 * (401). Every token is compared, in constant time, whichever matches.
 */
export function checkToken(req: FastifyRequest, tokens: readonly (readonly [tenant: string, token: string])[]): string {
  const header = req.headers.authorization;
  const given = header?.startsWith('Bearer ') ? header.slice(7) : (req.headers['x-kiln-token'] as string | undefined);
  let tenant: string | undefined;
  for (const [name, token] of tokens) if (tokenMatches(given, token)) tenant = name;
  if (tenant === undefined) {
    throw new HttpError('KILN_ERR_UNAUTHORIZED', 'this server needs a token: send Authorization: Bearer <token> (or X-Kiln-Token: <token>)');
  }
  return tenant;
}

/** Constant-time token check: compares SHA-256 digests so lengths leak nothing either. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** Shortest token `kiln serve` accepts: a short one can be guessed through the port. */
export const MIN_TOKEN_LENGTH = 16;
