/**
 * @file Mutations of StableHLO text for the IR fuzz tests: each one a small, plausible mistake
 * (a lost token or line, a truncated file, a wrong number in a shape or a `dims` list, another
 * op's name, another dtype, stray characters, an unbalanced bracket). A mutation is plain data
 * drawn by fast-check, so a failing case shrinks and prints as something a person can read.
 */
import fc from 'fast-check';
import { Op } from '../../ir/ops.js';

export type MutationKind =
  | 'deleteToken' | 'duplicateToken' | 'swapTokens' | 'deleteLine' | 'duplicateLine' | 'swapLines'
  | 'truncate' | 'shapeDim' | 'dimsList' | 'number' | 'opName' | 'dtype' | 'garbage' | 'bracket';

/** One mutation: `at` and `to` pick positions (fractions of the candidates), `pick` a replacement. */
export interface Mutation {
  kind: MutationKind;
  at: number;
  to: number;
  pick: number;
  text: string;
}

const KINDS: readonly MutationKind[] = [
  'deleteToken', 'duplicateToken', 'swapTokens', 'deleteLine', 'duplicateLine', 'swapLines',
  'truncate', 'shapeDim', 'dimsList', 'number', 'opName', 'dtype', 'garbage', 'bracket',
];

/** Numbers a careless edit or a hostile client might write where a size or index goes. */
const NUMBERS = [
  '0', '1', '2', '3', '5', '-1', '-7', '64', '1000', '65536', '2147483647', '2147483648', '4294967296',
  '99999999999', '9007199254740993', '1e309', '-0', '0x7fffffff', '1.5', '-99999999999999999999',
];
const DTYPES = ['f32', 'f16', 'bf16', 'f64', 'i1', 'i8', 'i32', 'i64', 'ui32', 'ui8', 'c64', 'f8E4M3', 'index', 'xf32', ''];
const GARBAGE = ['{', '}', '(', ')', '[', ']', '<', '>', '%', '@', '#', '^', '"', '\\', ':', ',', '=', '->', 'x', '?', '\u0000', '\u{1F600}', 'é', '\t', '\n', '//', 'dense<', 'loc(', '#loc', '%0', '0x', '-'];
const OP_NAMES = [...Object.values(Op), 'stablehlo.frobnicate', 'func.call', 'stablehlo.custom_call', 'chlo.nope'];

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom(...KINDS),
  // Uniform fractions (fc.double favours values near 0, which would mutate only the first token).
  at: fc.nat({ max: 999_999 }).map((n) => n / 1e6),
  to: fc.nat({ max: 999_999 }).map((n) => n / 1e6),
  pick: fc.nat({ max: 1 << 20 }),
  text: fc.array(fc.constantFrom(...GARBAGE), { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
});

interface Span { start: number; end: number; text: string }

function spans(text: string, re: RegExp): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(re)) out.push({ start: m.index!, end: m.index! + m[0].length, text: m[0] });
  return out;
}

const choose = <T>(xs: readonly T[], f: number): T | undefined => (xs.length ? xs[Math.floor(f * xs.length)] : undefined);
const splice = (text: string, s: Span, by: string) => text.slice(0, s.start) + by + text.slice(s.end);

const TOKEN = /%[\w$.#-]+|@[\w$.-]+|"(?:[^"\\\n]|\\.)*"|tensor<[^<>]*>|[A-Za-z_][\w$.]*|[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|->|\S/g;

/** Applies one mutation; returns the text unchanged when it has nothing of the kind to change. */
export function mutate(text: string, m: Mutation): string {
  switch (m.kind) {
    case 'deleteToken': case 'duplicateToken': case 'swapTokens': {
      const toks = spans(text, TOKEN);
      const a = choose(toks, m.at);
      if (!a) return text;
      if (m.kind === 'deleteToken') return splice(text, a, '');
      if (m.kind === 'duplicateToken') return splice(text, a, `${a.text} ${a.text}`);
      const b = choose(toks, m.to)!;
      const [x, y] = a.start <= b.start ? [a, b] : [b, a];
      if (x === y) return text;
      return text.slice(0, x.start) + y.text + text.slice(x.end, y.start) + x.text + text.slice(y.end);
    }
    case 'deleteLine': case 'duplicateLine': case 'swapLines': {
      const lines = text.split('\n');
      const i = Math.floor(m.at * lines.length);
      const j = Math.floor(m.to * lines.length);
      if (m.kind === 'deleteLine') lines.splice(i, 1);
      else if (m.kind === 'duplicateLine') lines.splice(i, 0, lines[i]);
      else [lines[i], lines[j]] = [lines[j], lines[i]];
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, Math.floor(m.at * text.length));
    case 'shapeDim': {
      // A dimension inside `tensor<...>`: `4x8xf32` has dims at the numbers before an `x`.
      const dims = spans(text, /(?<=tensor<(?:\d+x)*)\d+(?=x)/g);
      const s = choose(dims, m.at);
      return s ? splice(text, s, NUMBERS[m.pick % NUMBERS.length]) : text;
    }
    case 'dimsList': {
      // An integer inside `name = [ ... ]` or `array<i64: ...>` (dims, permutation, slice bounds...).
      const lists = spans(text, /(?:= \[[^\]\n]*\]|array<i64[^>\n]*>)/g);
      const l = choose(lists, m.at);
      if (!l) return text;
      const nums = spans(l.text, /-?\d+/g).filter((n) => !/i64$/.test(l.text.slice(0, n.end)));
      const n = choose(nums, m.to);
      if (!n) return splice(text, l, l.text.replace(/\[|:/, (c) => `${c} ${NUMBERS[m.pick % NUMBERS.length]}${c === '[' ? ',' : ''}`));
      return text.slice(0, l.start + n.start) + NUMBERS[m.pick % NUMBERS.length] + text.slice(l.start + n.end);
    }
    case 'number': {
      const s = choose(spans(text, /(?<![\w%#.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])/g), m.at);
      return s ? splice(text, s, NUMBERS[m.pick % NUMBERS.length]) : text;
    }
    case 'opName': {
      const s = choose(spans(text, /\b(?:stablehlo|chlo)\.[a-z_]+/g), m.at);
      return s ? splice(text, s, OP_NAMES[m.pick % OP_NAMES.length]) : text;
    }
    case 'dtype': {
      const s = choose(spans(text, /(?<=[x<:])(?:f16|f32|bf16|f64|i1|i32|i64|ui32)(?=>)/g), m.at);
      return s ? splice(text, s, DTYPES[m.pick % DTYPES.length]) : text;
    }
    case 'garbage': {
      const i = Math.floor(m.at * (text.length + 1));
      return text.slice(0, i) + m.text + text.slice(i);
    }
    case 'bracket': {
      const s = choose(spans(text, /[()[\]{}<>]/g), m.at);
      if (!s) return text;
      return m.pick % 2 ? splice(text, s, '') : splice(text, s, s.text + s.text);
    }
    default:
      return m.kind satisfies never;
  }
}

/** Applies mutations in order. */
export function mutateAll(text: string, ms: readonly Mutation[]): string {
  return ms.reduce(mutate, text);
}
