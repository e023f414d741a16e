/**
 * @file A small syntax highlighter for the three languages the dashboard shows: StableHLO/MLIR
 * text, the WGSL kernels kiln generates, and the JSON of inputs and outputs. Each language is a
 * list of sticky regular expressions tried in order at the current position; the first that
 * matches names the token's class. Pure (no DOM), so it is unit-tested under Node.
 */

export type Lang = 'mlir' | 'wgsl' | 'json';

/** A token class; the page styles `.tok-<class>`. */
export type TokenClass =
  | 'comment' | 'string' | 'number' | 'keyword' | 'type' | 'op' | 'value' | 'symbol' | 'attr' | 'punct' | 'plain';

export interface Token {
  cls: TokenClass;
  text: string;
}

type Rule = readonly [TokenClass, RegExp];

const words = (list: string) => new RegExp(`\\b(?:${list.trim().split(/\s+/).join('|')})\\b`, 'y');

const DTYPES = 'f16 f32 f64 bf16 i1 i8 i16 i32 i64 ui8 ui16 ui32 ui64 index';

const RULES: { [L in Lang]: readonly Rule[] } = {
  mlir: [
    ['comment', /\/\/[^\n]*/y],
    ['string', /"(?:[^"\\\n]|\\.)*"/y],
    // %x, %0, %1#2, %iterArg_3: SSA values
    ['value', /%[A-Za-z0-9_$.-]+(?:#\d+)?/y],
    ['symbol', /@[A-Za-z0-9_$.-]+|\^[A-Za-z0-9_$.-]+/y],
    // #loc3 aliases, #stablehlo.gather<...> attribute heads
    ['attr', /#[A-Za-z0-9_$.-]+/y],
    // dialect ops: stablehlo.add, func.func, chlo.erf
    ['op', /\b(?:stablehlo|func|chlo|mhlo|sdy|shape|arith|tensor)\.[A-Za-z_][A-Za-z0-9_]*\b/y],
    ['type', /\b(?:tensor|vector|array|complex|tuple)(?=<)|\b\d+(?:x\d+)*x(?:f16|f32|f64|bf16|i1|i8|i16|i32|i64|ui8|ui16|ui32|ui64)\b/y],
    ['type', words(DTYPES)],
    ['keyword', words('module attributes public private call return applies across dimensions init dims dense cond do loc reducer')],
    ['number', /-?(?:0x[0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\b|\b(?:true|false)\b/y],
    ['plain', /[A-Za-z_][A-Za-z0-9_]*/y],
    ['punct', /[{}()[\]<>:,=]/y],
  ],
  wgsl: [
    ['comment', /\/\/[^\n]*|\/\*[\s\S]*?\*\//y],
    ['attr', /@[A-Za-z_][A-Za-z0-9_]*/y],
    ['keyword', words(`fn let var const struct if else for loop while return break continue switch case default
      override alias enable requires discard continuing storage uniform workgroup private function read read_write`)],
    ['type', words(`bool f16 f32 i32 u32 vec2 vec3 vec4 vec2f vec3f vec4f vec2i vec3i vec4i vec2u vec3u vec4u
      mat2x2 mat3x3 mat4x4 array atomic ptr`)],
    ['number', /(?:0x[0-9A-Fa-f]+|\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)[iuhf]?\b|\b(?:true|false)\b/y],
    // a call: the name before '('
    ['op', /[A-Za-z_][A-Za-z0-9_]*(?=\s*\()/y],
    ['plain', /[A-Za-z_][A-Za-z0-9_]*/y],
    ['punct', /[{}()[\];,.<>=+\-*/%&|^!~:?]/y],
  ],
  json: [
    ['attr', /"(?:[^"\\\n]|\\.)*"(?=\s*:)/y],
    ['string', /"(?:[^"\\\n]|\\.)*"/y],
    ['number', /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y],
    ['keyword', /\b(?:true|false|null)\b/y],
    ['punct', /[{}[\],:]/y],
  ],
};

/** Splits `text` into tokens; their texts joined give `text` back exactly. */
export function tokenize(text: string, lang: Lang): Token[] {
  const rules = RULES[lang];
  const out: Token[] = [];
  let plain = '';
  let i = 0;
  outer: while (i < text.length) {
    for (const [cls, re] of rules) {
      re.lastIndex = i;
      const m = re.exec(text);
      if (m && m[0].length > 0) {
        if (plain) out.push({ cls: 'plain', text: plain }), (plain = '');
        out.push({ cls, text: m[0] });
        i += m[0].length;
        continue outer;
      }
    }
    plain += text[i++];
  }
  if (plain) out.push({ cls: 'plain', text: plain });
  return out;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' } as Record<string, string>)[c]};`);
}

/** The highlighted HTML of each line of `text` (a token spanning lines is split at the newlines). */
export function highlightLines(text: string, lang: Lang): string[] {
  const lines: string[] = [''];
  for (const t of tokenize(text, lang)) {
    t.text.split('\n').forEach((part, k) => {
      if (k > 0) lines.push('');
      if (part) lines[lines.length - 1] += t.cls === 'plain' ? escapeHtml(part) : `<span class="tok-${t.cls}">${escapeHtml(part)}</span>`;
    });
  }
  return lines;
}

/** Highlighted HTML of the whole text. */
export function highlight(text: string, lang: Lang): string {
  return highlightLines(text, lang).join('\n');
}
