/**
 * @file The server's one table of error codes. Every error reply is
 * `{error: {code, message, line?, column?}}` with the status from this table.
 */
import { KilnError } from '../ir/errors.js';

export const ERROR_CODES = {
  KILN_ERR_PARSE: { status: 400, doc: 'The IR text is not StableHLO as kiln reads it; line and column say where.' },
  KILN_ERR_VERIFY: { status: 400, doc: 'The IR parses but its types, shapes or attributes disagree.' },
  KILN_ERR_UNSUPPORTED: { status: 422, doc: 'The program uses an op, type or attribute kiln does not implement.' },
  KILN_ERR_INPUT: { status: 400, doc: 'Wrong number, dtype, shape or byte length of inputs.' },
  KILN_ERR_BAD_REQUEST: { status: 400, doc: 'The request body is malformed: bad msgpack, bad JSON, or fields of the wrong type.' },
  KILN_ERR_UNSUPPORTED_MEDIA: { status: 415, doc: 'The body has a content type the route does not take.' },
  KILN_ERR_UNAUTHORIZED: { status: 401, doc: 'The server has a token and the request did not present it (Authorization: Bearer T).' },
  KILN_ERR_FORBIDDEN: { status: 403, doc: 'A server without a token refused a request not addressed to a loopback name, or sent by a web page of another origin.' },
  KILN_ERR_NOT_FOUND: { status: 404, doc: 'No such executable, buffer, model, op (POST /ops/:name), session or route (or one of another session).' },
  KILN_ERR_CONFLICT: { status: 409, doc: 'A client-chosen buffer handle is already in use.' },
  KILN_ERR_TOO_LARGE: { status: 413, doc: 'The body, a tensor, or a module passes a server limit.' },
  KILN_ERR_QUOTA: { status: 429, doc: "The session's quota (bytes, buffers, queued requests, models) or the tenant's number of sessions is used up; free something or wait for replies." },
  KILN_ERR_RESOURCE: { status: 507, doc: 'Keeping this buffer would pass the server limit on resident bytes; free buffers first.' },
  KILN_ERR_TIMEOUT: { status: 408, doc: 'The program ran past the execution time limit (an endless while loop, say) and was stopped.' },
  KILN_ERR_TRACE: { status: 400, doc: 'Reserved for client-side tracing errors relayed through the server.' },
  KILN_ERR_DEVICE: { status: 500, doc: 'The GPU failed: a shader did not compile or a device call failed validation.' },
  KILN_ERR_RUNTIME: { status: 500, doc: 'A run failed on the device for a reason other than its input.' },
  KILN_ERR_INTERNAL: { status: 500, doc: 'A bug in kiln; the message says where.' },
} as const satisfies Record<string, { status: number; doc: string }>;

export type ServerErrorCode = keyof typeof ERROR_CODES;

/** An error the server replies with; thrown by routes and turned into a reply by the app's handler. */
export class HttpError extends Error {
  readonly code: ServerErrorCode;
  readonly line?: number;
  readonly column?: number;

  constructor(code: ServerErrorCode, message: string, pos?: { line: number; column: number }) {
    super(message);
    this.code = code;
    this.line = pos?.line;
    this.column = pos?.column;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, line: this.line, column: this.column } };
  }
}

/** Longest executable id or buffer handle in a path (handles are 1-128 characters; ids 64). */
export const MAX_ID_LENGTH = 128;

/** Maps anything thrown while handling a request to the reply it deserves. */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof KilnError) {
    const code: ServerErrorCode = e.code in ERROR_CODES ? e.code : 'KILN_ERR_INTERNAL';
    return new HttpError(code, e.message, e.loc);
  }
  const fe = e as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (fe.validation) return new HttpError('KILN_ERR_BAD_REQUEST', fe.message ?? 'invalid request');
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError('KILN_ERR_TOO_LARGE', `request body is larger than the server's limit (${fe.message})`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError('KILN_ERR_UNSUPPORTED_MEDIA', fe.message ?? 'unsupported content type');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpError('KILN_ERR_BAD_REQUEST', `a path segment is longer than any id or handle (${MAX_ID_LENGTH} characters at most)`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError('KILN_ERR_BAD_REQUEST', fe.message ?? 'bad request body');
  }
  if (fe.statusCode === 400) return new HttpError('KILN_ERR_BAD_REQUEST', fe.message ?? 'bad request');
  if (fe.statusCode === 413) return new HttpError('KILN_ERR_TOO_LARGE', fe.message ?? 'request too large');
  if (fe.statusCode === 415) return new HttpError('KILN_ERR_UNSUPPORTED_MEDIA', fe.message ?? 'unsupported content type');
  return new HttpError('KILN_ERR_INTERNAL', (e as Error)?.message ?? String(e));
}
