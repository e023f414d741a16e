/**
 * @file Pretty op forms to one normal form: operands, named attributes under their generic names
 * (`dims = [1]` on broadcast_in_dim becomes `broadcast_dimensions`), operand and result types,
 * and regions with their block arguments. The generic form passes through nearly as is.
 * Forms follow StableHLO's printers (stablehlo/dialect/StablehloOps.td, AssemblyFormat.cpp).
 */
import type { IToken } from 'chevrotain';
import { ParseError } from '../errors.js';
import { Op } from '../ops.js';
import type { TensorType } from '../types.js';
import { tokLoc } from './lexer.js';
import { parseTensorType } from './literals.js';
import type { Attr, BlockArgSyntax, OpSyntax, Piece, RegionSyntax } from './syntax.js';

export interface ValueRef { name: string; tok: IToken }

export type RegionPlan =
  | { kind: 'syntax'; syntax: RegionSyntax; args: { name: string; tok: IToken; type: TensorType }[] }
  /** `applies stablehlo.add`: a block `(a, b) { r = op(a, b); return r }` built by the parser. */
  | { kind: 'applies'; op: string; tok: IToken; argTypes: TensorType[] };

export interface NormalOp {
  operands: ValueRef[];
  attrs: Map<string, Attr>;
  operandTypes: TensorType[];
  resultTypes: TensorType[];
  regions: RegionPlan[];
}

/** Pretty keyword to generic attribute name, per op. */
const KEYWORDS: Partial<Record<string, Record<string, string>>> = {
  [Op.BroadcastInDim]: { dims: 'broadcast_dimensions' },
  [Op.Transpose]: { dims: 'permutation' },
  [Op.Reverse]: { dims: 'dimensions' },
  [Op.Iota]: { dim: 'iota_dimension' },
  [Op.Concatenate]: { dim: 'dimension' },
  [Op.DynamicSlice]: { sizes: 'slice_sizes' },
  [Op.Pad]: { low: 'edge_padding_low', high: 'edge_padding_high', interior: 'interior_padding' },
  [Op.Reduce]: { dimensions: 'dimensions' },
  [Op.DotGeneral]: { batching_dims: 'batching_dims', contracting_dims: 'contracting_dims', precision: 'precision_config' },
  [Op.Convolution]: { dim_numbers: 'dimension_numbers', window: 'window' },
  [Op.TopK]: { k: 'k' },
  [Op.RngBitGenerator]: { algorithm: 'rng_algorithm' },
  [Op.ReducePrecision]: { format: 'format' },
  [Op.Sort]: { dim: 'dimension' },
  [Op.Scan]: { dimension: 'dimension' },
  [Op.Cholesky]: { lower: 'lower' },
  [Op.Fft]: { type: 'fft_type', length: 'fft_length' },
};

/** Conv `window = {...}` keys to generic names. */
const WINDOW_KEYS: Record<string, string> = {
  stride: 'window_strides', pad: 'padding', lhs_dilate: 'lhs_dilation', rhs_dilate: 'rhs_dilation', reverse: 'window_reversal',
};

interface Flat {
  values: (ValueRef & { init?: ValueRef; eq?: ValueRef })[];
  kw: { key: string; tok: IToken; value: Attr }[];
  bare: { v: string; tok: IToken }[];
  positional: Attr[];
  sym?: { v: string; tok: IToken };
}

function flattenPieces(pieces: Piece[], f: Flat, opName: string, file?: string): Flat {
  for (const p of pieces) {
    switch (p.k) {
      case 'comma': break;
      case 'value': f.values.push({ name: p.name, tok: p.tok, init: p.init, eq: p.eq }); break;
      case 'ident':
        if (p.value) f.kw.push({ key: p.v, tok: p.tok, value: p.value });
        else f.bare.push({ v: p.v, tok: p.tok });
        break;
      case 'group': flattenPieces(p.pieces, f, opName, file); break;
      case 'angle': throw new ParseError(`${opName}: unexpected '<...>' among its operands (only Shardy annotations take one)`, tokLoc(p.tok, file));
      case 'sym': f.sym = { v: p.v, tok: p.tok }; break;
      case 'attr': f.positional.push(p.value); break;
      default: p satisfies never;
    }
  }
  return f;
}

const intAttr = (n: number, tok: IToken): Attr => ({ k: 'int', text: String(n), tok });
const listAttr = (xs: Attr[], tok: IToken): Attr => ({ k: 'list', items: xs, tok });

/** Normalizes one op; `op` is already resolved from the name. */
export function normalizeOp(s: OpSyntax, op: Op, file?: string): NormalOp {
  const fail = (msg: string, tok: IToken = s.nameTok): never => {
    throw new ParseError(`${s.name}: ${msg}`, tokLoc(tok, file));
  };
  const types = (toks: IToken[]) => toks.map((t) => parseTensorType(t, file));
  if (s.generic) {
    if (!s.sig || s.sig.results === undefined) fail('the generic form needs a function type (...) -> (...)');
    const attrs = new Map<string, Attr>();
    for (const e of s.attrs) if (e.value) attrs.set(e.key, e.value);
    const regions: RegionPlan[] = s.regions.map((r) => ({
      kind: 'syntax', syntax: r, args: r.args.map((a) => ({ name: a.name, tok: a.tok, type: parseTensorType(a.typeTok, file) })),
    }));
    return { operands: s.operands, attrs, operandTypes: types(s.sig!.inputs), resultTypes: types(s.sig!.results!), regions };
  }

  const f = flattenPieces(s.pieces, { values: [], kw: [], bare: [], positional: [] }, s.name, file);
  const attrs = new Map<string, Attr>();
  const names = KEYWORDS[op] ?? {};
  for (const k of f.kw) {
    const name = names[k.key];
    if (!name) fail(`unexpected '${k.key} = ...'`, k.tok);
    attrs.set(name!, k.value);
  }
  for (const p of f.positional) {
    if (p.k === 'dict') for (const e of p.entries) { if (e.value) attrs.set(e.key, e.value); }
  }
  const positional = f.positional.filter((p) => p.k !== 'dict');
  const operands: ValueRef[] = f.values.map((v) => v.eq ?? v);
  const regions: RegionPlan[] = [];
  const sig = s.sig;
  let operandTypes: TensorType[] = [];
  let resultTypes: TensorType[] = [];
  const expectBare = (n: number) => {
    if (f.bare.length > n) fail(`unexpected '${f.bare[n].v}'`, f.bare[n].tok);
  };

  switch (op) {
    case Op.Compare: {
      if (f.bare.length < 1) fail('expected a comparison direction (EQ, NE, LT, LE, GT, GE)');
      attrs.set('comparison_direction', { k: 'ident', v: f.bare[0].v, tok: f.bare[0].tok });
      if (f.bare[1]) attrs.set('compare_type', { k: 'ident', v: f.bare[1].v, tok: f.bare[1].tok });
      expectBare(2);
      break;
    }
    case Op.Constant: {
      const d = positional[0];
      if (!d || d.k !== 'dense') fail('expected a dense<...> literal');
      attrs.set('value', d!);
      if (!sig && d!.k === 'dense' && d!.typeTok) resultTypes = [parseTensorType(d!.typeTok, file)];
      break;
    }
    case Op.Slice: {
      const l = positional[0];
      if (!l || l.k !== 'list') fail('expected [start:limit:stride, ...]');
      const start: Attr[] = [];
      const limit: Attr[] = [];
      const strides: Attr[] = [];
      for (const it of (l as Attr & { k: 'list' }).items) {
        if (it.k !== 'range' || it.parts.length < 2 || it.parts.length > 3) fail('slice bounds must read start:limit or start:limit:stride', it.tok);
        const r = it as Attr & { k: 'range' };
        start.push(r.parts[0]); limit.push(r.parts[1]); strides.push(r.parts[2] ?? intAttr(1, r.tok));
      }
      attrs.set('start_indices', listAttr(start, l!.tok));
      attrs.set('limit_indices', listAttr(limit, l!.tok));
      attrs.set('strides', listAttr(strides, l!.tok));
      break;
    }
    case Op.ReducePrecision: {
      const fmt = attrs.get('format');
      attrs.delete('format');
      const m = fmt?.k === 'ident' ? /^e(\d+)m(\d+)$/.exec(fmt.v) : null;
      if (!m) fail("expected 'format = eXmY'", fmt?.tok);
      attrs.set('exponent_bits', intAttr(Number(m![1]), fmt!.tok));
      attrs.set('mantissa_bits', intAttr(Number(m![2]), fmt!.tok));
      break;
    }
    case Op.DotGeneral: {
      const items: { key: string; value: Attr; tok: IToken }[] = [];
      for (const [key, side] of [['batching_dims', 'batching'], ['contracting_dims', 'contracting']] as const) {
        const a = attrs.get(key);
        attrs.delete(key);
        if (!a) continue;
        if (a.k !== 'cross' || a.parts.length !== 2) fail(`'${key}' must read [..] x [..]`, a.tok);
        const c = a as Attr & { k: 'cross' };
        items.push({ key: `lhs_${side}_dimensions`, value: c.parts[0], tok: c.tok });
        items.push({ key: `rhs_${side}_dimensions`, value: c.parts[1], tok: c.tok });
      }
      attrs.set('dot_dimension_numbers', { k: 'hash', name: '#stablehlo.dot', items, tok: s.nameTok });
      break;
    }
    case Op.Convolution: {
      const w = attrs.get('window');
      attrs.delete('window');
      if (w) {
        if (w.k !== 'dict') fail("'window' must be {stride = ..., pad = ...}", w.tok);
        for (const e of (w as Attr & { k: 'dict' }).entries) {
          const name = WINDOW_KEYS[e.key];
          if (!name || !e.value) fail(`unexpected window field '${e.key}'`, e.keyTok);
          attrs.set(name, e.value!);
        }
      }
      break;
    }
    case Op.CustomCall: {
      if (!f.sym) fail('expected @target');
      attrs.set('call_target_name', { k: 'sym', v: f.sym!.v, tok: f.sym!.tok });
      break;
    }
    case Op.Call: {
      if (!f.sym) fail('expected @callee');
      attrs.set('callee', { k: 'sym', v: f.sym!.v, tok: f.sym!.tok });
      break;
    }
    case Op.Reduce: {
      const inputs = f.values.filter((v) => v.init);
      if (inputs.length !== f.values.length) fail('expected (%input init: %init) pairs');
      operands.length = 0;
      operands.push(...inputs, ...inputs.map((v) => v.init!));
      const applies = f.bare.findIndex((b) => b.v === 'applies');
      const words = f.bare.filter((_, i) => i !== applies + 1 || applies < 0).map((b) => b.v);
      if (words.some((w) => w !== 'applies' && w !== 'across')) fail(`unexpected '${words.find((w) => w !== 'applies' && w !== 'across')}'`);
      if (!sig || !sig.results) fail('expected a function type (...) -> (...)');
      operandTypes = types(sig!.inputs);
      resultTypes = types(sig!.results!);
      const initTypes = operandTypes.slice(inputs.length);
      if (applies >= 0) {
        const body = f.bare[applies + 1];
        if (!body) fail("expected an op after 'applies'");
        if (inputs.length !== 1) fail("'applies' takes one input; use the reducer(...) form for several");
        regions.push({ kind: 'applies', op: body.v, tok: body.tok, argTypes: [initTypes[0], initTypes[0]] });
      } else {
        if (!s.reducerArgs || s.regions.length !== 1) fail("expected 'applies op' or a reducer(...) {...} region");
        if (s.reducerArgs!.length !== inputs.length || s.reducerArgs!.some((p) => p.length !== 2)) {
          fail(`reducer needs ${inputs.length} pairs of block arguments`);
        }
        const pairs = s.reducerArgs!;
        const ordered: BlockArgSyntax[] = [...pairs.map((p) => p[0]), ...pairs.map((p) => p[1])];
        regions.push({
          kind: 'syntax', syntax: s.regions[0],
          args: ordered.map((a) => ({ name: a.name, tok: a.tok, type: parseTensorType(a.typeTok, file) })),
        });
      }
      return { operands, attrs, operandTypes, resultTypes, regions };
    }
    case Op.Scan: {
      // `chlo.scan(%in, ...) inits (%init, ...) dimension=0 attributes {...} { ^bb0(...): ... } : (...) -> (...)`
      const [ins, word, inits] = s.pieces;
      if (ins?.k !== 'group' || word?.k !== 'ident' || word.v !== 'inits' || inits?.k !== 'group') {
        fail('expected (%input, ...) inits (%init, ...)');
      }
      const count = (g: Piece) => (g as Piece & { k: 'group' }).pieces.filter((p) => p.k === 'value').length;
      const numInputs = count(ins!);
      const numInits = count(inits!);
      if (numInputs + numInits !== operands.length) fail('expected only values in (%input, ...) inits (%init, ...)');
      if (!attrs.has('dimension')) fail("expected 'dimension=N'");
      attrs.set('operandSegmentSizes', { k: 'array', elem: 'i32', items: [intAttr(numInputs, s.nameTok), intAttr(numInits, s.nameTok)], tok: s.nameTok });
      if (s.regions.length !== 1) fail('expected one body region { ^bb0(...): ... }');
      if (!sig || !sig.results) fail('expected a function type (...) -> (...)');
      const r = s.regions[0];
      regions.push({ kind: 'syntax', syntax: r, args: r.args.map((a) => ({ name: a.name, tok: a.tok, type: parseTensorType(a.typeTok, file) })) });
      return { operands, attrs, operandTypes: types(sig!.inputs), resultTypes: types(sig!.results!), regions };
    }
    case Op.While: {
      if (f.values.some((v) => !v.eq)) fail('expected (%iterArg = %init, ...)');
      if (!sig || sig.results) fail('expected the iteration types after the colon');
      if (s.regions.length !== 2 || s.regionWords?.[0]?.image !== 'cond' || s.regionWords?.[1]?.image !== 'do') {
        fail('expected cond { ... } do { ... }');
      }
      operandTypes = types(sig!.inputs);
      resultTypes = operandTypes;
      for (const r of s.regions) {
        regions.push({ kind: 'syntax', syntax: r, args: f.values.map((v, i) => ({ name: v.name, tok: v.tok, type: operandTypes[i] })) });
      }
      if (operandTypes.length !== operands.length) fail(`${operands.length} loop values but ${operandTypes.length} types`);
      return { operands, attrs, operandTypes, resultTypes, regions };
    }
    default:
      expectBare(0);
  }
  if (op !== Op.Constant && positional.length > (op === Op.Slice ? 1 : 0)) fail('unexpected attribute value', positional[0].tok);
  if (s.regions.length > 0) fail('unexpected region');
  for (const v of f.values) if (v.init || v.eq) fail(`unexpected '${v.init ? 'init:' : '='}'`, v.tok);

  if (sig) {
    if (sig.results !== undefined) {
      operandTypes = types(sig.inputs);
      resultTypes = types(sig.results);
    } else {
      const ts = types(sig.inputs);
      if (op === Op.Return || op === Op.FuncReturn) operandTypes = ts;
      else if (op === Op.OptimizationBarrier) { operandTypes = ts; resultTypes = ts; } else if (op === Op.Select && ts.length === 2) {
        operandTypes = [ts[0], ts[1], ts[1]]; resultTypes = [ts[1]];
      } else if (op === Op.Complex && ts.length === 1) {
        // `stablehlo.complex %re, %im : tensor<4xcomplex<f32>>` names only the result type.
        const part = { ...ts[0], dtype: ts[0].dtype === 'c128' ? 'f64' as const : 'f32' as const };
        operandTypes = [part, part]; resultTypes = [ts[0]];
      } else if (ts.length === 1) {
        operandTypes = operands.map(() => ts[0]); resultTypes = [ts[0]];
      } else fail(`expected one type, or a function type (...) -> (...)`, sig.tok);
    }
  } else if (op !== Op.Constant && op !== Op.Return && op !== Op.FuncReturn) {
    fail("expected ':' and the op's types");
  }
  if (operandTypes.length !== operands.length) {
    fail(`${operands.length} operand(s) but ${operandTypes.length} operand type(s)`, sig?.tok);
  }
  return { operands, attrs, operandTypes, resultTypes, regions };
}
