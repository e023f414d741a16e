/**
 * @file Typed errors. Every message names what went wrong and where: `file:line:col: op: message`.
 */

/** A position in IR text (1-based line and column), or a user's call site when traced. */
export interface Location {
  file?: string;
  line: number;
  column: number;
  /** What `loc(...)` said in the source, resolved through `#loc` aliases (e.g. `"gen.py":55:53`). */
  source?: string;
}

export function formatLocation(loc: Location | undefined): string {
  if (!loc) return '';
  return `${loc.file ?? '<input>'}:${loc.line}:${loc.column}`;
}

export type KilnErrorCode =
  | 'KILN_ERR_PARSE'
  | 'KILN_ERR_VERIFY'
  | 'KILN_ERR_UNSUPPORTED'
  | 'KILN_ERR_DEVICE'
  | 'KILN_ERR_RUNTIME'
  | 'KILN_ERR_INPUT'
  | 'KILN_ERR_TRACE'
  | 'KILN_ERR_TIMEOUT';

/** Base of every error kiln raises on purpose. `message` already includes the location. */
export class KilnError extends Error {
  readonly code: KilnErrorCode;
  readonly loc?: Location;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(code: KilnErrorCode, detail: string, loc?: Location) {
    super(loc ? `${formatLocation(loc)}: ${detail}` : detail);
    this.code = code;
    this.loc = loc;
    this.detail = detail;
  }
}

/** Text that is not StableHLO as kiln reads it (lexing and parsing). */
export class ParseError extends KilnError {
  override name = 'ParseError';
  constructor(detail: string, loc?: Location) { super('KILN_ERR_PARSE', detail, loc); }
}

/** A well-formed module whose types, shapes or attributes do not agree. */
export class VerifyError extends KilnError {
  override name = 'VerifyError';
  constructor(detail: string, loc?: Location) { super('KILN_ERR_VERIFY', detail, loc); }
}

/** An op, type or attribute that kiln recognises but does not implement. */
export class UnsupportedOpError extends KilnError {
  override name = 'UnsupportedOpError';
  constructor(detail: string, loc?: Location) { super('KILN_ERR_UNSUPPORTED', detail, loc); }
}

/** A GPU or device failure: no adapter, a shader that does not compile, a validation error. */
export class DeviceError extends KilnError {
  override name = 'DeviceError';
  constructor(detail: string, loc?: Location) { super('KILN_ERR_DEVICE', detail, loc); }
}

/** Bad runtime input: wrong number, dtype or shape of arguments, bad data. */
export class InputError extends KilnError {
  override name = 'InputError';
  constructor(detail: string, loc?: Location) { super('KILN_ERR_INPUT', detail, loc); }
}

/** A run that passed its deadline (an endless `while`, say). */
export class TimeoutError extends KilnError {
  override name = 'TimeoutError';
  constructor(detail: string, loc?: Location) { super('KILN_ERR_TIMEOUT', detail, loc); }
}
