/**
 * @file Tokens of the StableHLO text JAX prints, and the lexer that turns text into them.
 * Tensor types and `loc(...)` are single tokens: `8x16xf32` cannot be split by a regular lexer
 * without context, and locations never change meaning, so the parser keeps them whole.
 */
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';
import { ParseError, type Location } from '../errors.js';

const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][\w$.]*/ });

/** `keyword` is an Identifier-shaped token that is a keyword only as a whole word. */
function keyword(name: string, word: string): TokenType {
  return createToken({ name, pattern: new RegExp(word.replace('.', '\\.')), longer_alt: Identifier });
}

/** Matches `loc(` and everything up to its balanced `)`, skipping string contents. */
function matchLoc(text: string, offset: number): RegExpExecArray | null {
  if (!text.startsWith('loc(', offset)) return null;
  let depth = 0;
  for (let i = offset + 3; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) {
      const m = [text.slice(offset, i + 1)] as unknown as RegExpExecArray;
      return m;
    } else if (c === '\n') return null;
  }
  return null;
}

export const Tok = {
  WhiteSpace: createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED }),
  Comment: createToken({ name: 'Comment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED }),
  Loc: createToken({ name: 'Loc', pattern: { exec: matchLoc }, start_chars_hint: ['l'], line_breaks: false }),
  /** `tensor<8x16xf32>`, with one level of nested `<>` so that encodings lex (and are refused later). */
  TensorType: createToken({ name: 'TensorType', pattern: /tensor<[^<>]*(?:<[^<>]*>[^<>]*)*>/ }),
  /** `!stablehlo.token` and other dialect types: lexed so that the error can name them. */
  BangType: createToken({ name: 'BangType', pattern: /![A-Za-z_][\w.]*(?:<[^<>]*>)?/ }),
  /**
   * `sdy.mesh @mesh = <[...]> {...}`: a Shardy device mesh, which JAX's GPU lowering prints at the
   * top of every module (`@empty_mesh = <[]>` on one device). One line; kiln runs on one device,
   * so the grammar skips it (the `sdy.sharding` argument attributes that name it are kept).
   */
  SdyMesh: createToken({ name: 'SdyMesh', pattern: /sdy\.mesh[ \t]+@[\w$.-]+[ \t]*=[^\n]*/ }),
  Module: keyword('Module', 'module'),
  FuncFunc: keyword('FuncFunc', 'func.func'),
  Attributes: keyword('Attributes', 'attributes'),
  Dense: keyword('Dense', 'dense'),
  ArrayKw: keyword('ArrayKw', 'array'),
  True: keyword('True', 'true'),
  False: keyword('False', 'false'),
  X: keyword('X', 'x'),
  Identifier,
  /** `%arg0`, `%cst_1`, `%1#1` (a use of result 1 of `%1`). */
  ValueId: createToken({ name: 'ValueId', pattern: /%[\w$.-]+(?:#\d+)?/ }),
  SymbolRef: createToken({ name: 'SymbolRef', pattern: /@(?:[\w$.-]+|"(?:[^"\\]|\\.)*")/ }),
  BlockId: createToken({ name: 'BlockId', pattern: /\^[\w$.-]+/ }),
  HashIdent: createToken({ name: 'HashIdent', pattern: /#[A-Za-z_][\w$.-]*/ }),
  StringLit: createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/ }),
  Arrow: createToken({ name: 'Arrow', pattern: /->/ }),
  Hex: createToken({ name: 'Hex', pattern: /0x[0-9A-Fa-f]+/ }),
  Float: createToken({ name: 'Float', pattern: /[-+]?\d+\.\d*(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+/ }),
  Integer: createToken({ name: 'Integer', pattern: /[-+]?\d+/ }),
  LParen: createToken({ name: 'LParen', pattern: /\(/ }),
  RParen: createToken({ name: 'RParen', pattern: /\)/ }),
  LBracket: createToken({ name: 'LBracket', pattern: /\[/ }),
  RBracket: createToken({ name: 'RBracket', pattern: /]/ }),
  LBrace: createToken({ name: 'LBrace', pattern: /\{/ }),
  RBrace: createToken({ name: 'RBrace', pattern: /}/ }),
  LAngle: createToken({ name: 'LAngle', pattern: /</ }),
  RAngle: createToken({ name: 'RAngle', pattern: />/ }),
  Comma: createToken({ name: 'Comma', pattern: /,/ }),
  Colon: createToken({ name: 'Colon', pattern: /:/ }),
  Equals: createToken({ name: 'Equals', pattern: /=/ }),
};

/** Order matters: specific patterns before the general ones they overlap with. */
export const allTokens: TokenType[] = [
  Tok.WhiteSpace, Tok.Comment, Tok.Loc, Tok.TensorType, Tok.BangType, Tok.SdyMesh,
  Tok.Module, Tok.FuncFunc, Tok.Attributes, Tok.Dense, Tok.ArrayKw, Tok.True, Tok.False, Tok.X,
  Tok.Identifier, Tok.ValueId, Tok.SymbolRef, Tok.BlockId, Tok.HashIdent, Tok.StringLit, Tok.Arrow,
  Tok.Hex, Tok.Float, Tok.Integer, Tok.LParen, Tok.RParen, Tok.LBracket, Tok.RBracket, Tok.LBrace,
  Tok.RBrace, Tok.LAngle, Tok.RAngle, Tok.Comma, Tok.Colon, Tok.Equals,
];

const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * How deep brackets may nest. The grammar, the builder, the verifier and the printer recurse once
 * or more per level; a limit far above any real program (JAX nests regions a few levels, dense
 * literals one level per dimension) keeps a hostile `[[[[...` from overflowing the stack.
 */
export const MAX_NESTING = 256;

/** Limits a caller (the server) puts on one text, checked before the lexer allocates anything. */
export interface ParseLimits {
  /** Most tokens the text may have (roughly: words, numbers, strings and punctuation marks). */
  maxTokens?: number;
}

/** Text over a limit of {@link checkTextLimits}: a ParseError at the place the limit was passed. */
export class TextLimitError extends ParseError {
  override name = 'TextLimitError';
  constructor(readonly limit: 'nesting' | 'tokens', detail: string, loc: Location) { super(detail, loc); }
}

const Ch = { Quote: 34, Slash: 47, Newline: 10, Backslash: 92, Minus: 45, RAngle: 62 } as const;
/** Characters that are tokens by themselves; the nesting ones are counted apart. */
const PUNCT = new Set([...'()[]{}<>,:='].map((c) => c.charCodeAt(0)));
const OPENERS = new Set([...'([{<'].map((c) => c.charCodeAt(0)));
const CLOSING = new Set([...')]}>'].map((c) => c.charCodeAt(0)));
const SPACE = new Set([...' \t\r\n'].map((c) => c.charCodeAt(0)));

/**
 * One pass over the characters, allocating nothing, before Chevrotain builds its token array
 * (about 200 bytes a token): refuses text that nests brackets, braces, parentheses or angle
 * brackets deeper than {@link MAX_NESTING} (`[[[[...`, `#a<#a<...`: the grammar recurses per level
 * and would overflow the stack) or has more than `limits.maxTokens` tokens, at the character where
 * the limit is passed. A 10 MB body of `[` is refused at its 257th character in microseconds
 * rather than after lexing ten million tokens.
 */
export function checkTextLimits(text: string, file?: string, limits: ParseLimits = {}): void {
  const maxTokens = limits.maxTokens ?? Infinity;
  let depth = 0;
  let tokens = 0;
  let line = 1;
  let lineStart = 0;
  let inWord = false;
  const at = (i: number) => ({ file, line, column: i - lineStart + 1 });
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === Ch.Newline) { line++; lineStart = i + 1; inWord = false; continue; }
    if (SPACE.has(c)) { inWord = false; continue; }
    if (c === Ch.Slash && text.charCodeAt(i + 1) === Ch.Slash) {
      // A comment runs to the end of the line.
      const end = text.indexOf('\n', i);
      i = (end < 0 ? text.length : end) - 1;
      inWord = false;
      continue;
    }
    let counted = false;
    if (c === Ch.Quote) {
      // A string is one token, whatever brackets it holds; an unclosed one is the lexer's to report.
      for (i++; i < text.length && text.charCodeAt(i) !== Ch.Quote && text.charCodeAt(i) !== Ch.Newline; i++) {
        if (text.charCodeAt(i) === Ch.Backslash) i++;
      }
      if (text.charCodeAt(i) === Ch.Newline) i--;
      inWord = false;
      counted = true;
    } else if (PUNCT.has(c)) {
      inWord = false;
      counted = true;
      if (OPENERS.has(c)) {
        if (++depth > MAX_NESTING) throw new TextLimitError('nesting', `brackets nest deeper than ${MAX_NESTING} levels`, at(i));
      } else if (CLOSING.has(c) && depth > 0 && !(c === Ch.RAngle && i > 0 && text.charCodeAt(i - 1) === Ch.Minus)) {
        depth--; // `->` is an arrow, not a closer
      }
    } else if (!inWord) {
      inWord = true;
      counted = true;
    }
    if (counted && ++tokens > maxTokens) {
      throw new TextLimitError('tokens', `the module has more than ${maxTokens} tokens, the limit`, at(i));
    }
  }
}

/**
 * Lexes `text` (after {@link checkTextLimits}), then checks that brackets balance so that an
 * unclosed region is reported where it was opened rather than at the end of the file.
 */
export function tokenize(text: string, file?: string, limits?: ParseLimits): IToken[] {
  checkTextLimits(text, file, limits);
  const res = lexer.tokenize(text);
  if (res.errors.length > 0) {
    const e = res.errors[0];
    const bad = text.slice(e.offset, e.offset + Math.max(1, Math.min(e.length, 20)));
    throw new ParseError(`unexpected character(s) '${bad}'`, { file, line: e.line ?? 1, column: e.column ?? 1 });
  }
  const stack: IToken[] = [];
  for (const t of res.tokens) {
    if (t.image in CLOSERS) {
      if (stack.push(t) > MAX_NESTING) throw new ParseError(`brackets nest deeper than ${MAX_NESTING} levels`, tokLoc(t, file));
    }
    else if (t.image === ')' || t.image === ']' || t.image === '}') {
      const open = stack.pop();
      if (!open || CLOSERS[open.image] !== t.image) {
        const what = open ? `'${open.image}' opened at ${open.startLine}:${open.startColumn}` : 'nothing';
        throw new ParseError(`'${t.image}' closes ${what}`, tokLoc(t, file));
      }
    }
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    throw new ParseError(`unclosed '${open.image}': the input ends before its '${CLOSERS[open.image]}'`, tokLoc(open, file));
  }
  return res.tokens;
}

/** The location of a token (1-based line and column). */
export function tokLoc(t: IToken, file?: string): { file?: string; line: number; column: number } {
  return { file, line: t.startLine ?? 1, column: t.startColumn ?? 1 };
}
