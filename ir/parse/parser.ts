/**
 * @file `parseModule`: StableHLO text to the IR graph. Lexing and the grammar give a syntax tree;
 * this file resolves names to values (scoped per region), builds operations with typed attributes,
 * checks result counts and terminators, and resolves calls and `#loc` aliases. Every failure is a
 * `ParseError` or `UnsupportedOpError` with a line and column; shapes are the verifier's business.
 */
import type { IToken } from 'chevrotain';
import { IDENTITY_CALLS, IDENTITY_OPS, ONE_DEVICE_COLLECTIVES } from '../coverage.js';
import { CUSTOM_CALLS, targetRule } from '../custom-calls.js';
import { KilnError, ParseError, UnsupportedOpError, type Location } from '../errors.js';
import { BinaryElementwise, Op, opFromName, type OpAttrs } from '../ops.js';
import {
  formatType, sameType, type Block, type Func, type Module, type Operation, type Region, type Value,
} from '../types.js';
import { AttrReader, attrRules, formatAttr } from './attributes.js';
import { grammar } from './grammar.js';
import { tokenize, tokLoc, type ParseLimits } from './lexer.js';
import { parseTensorType } from './literals.js';
import { normalizeOp, type RegionPlan } from './pretty.js';
import { checkStructure } from './structure.js';
import type { AttrEntry, DenseNode, ModuleSyntax, OpSyntax, Piece, RegionSyntax } from './syntax.js';

/** Names visible in a region: its own definitions, then its parents'. */
class Scope {
  private names = new Map<string, { values: Value[]; tok: IToken }>();
  constructor(private parent?: Scope) {}

  lookupGroup(name: string): { values: Value[]; tok: IToken } | undefined {
    return this.names.get(name) ?? this.parent?.lookupGroup(name);
  }

  define(name: string, values: Value[], tok: IToken, file?: string): void {
    const prev = this.lookupGroup(name);
    if (prev) {
      throw new ParseError(`value ${name} is defined twice (first at ${prev.tok.startLine}:${prev.tok.startColumn})`, tokLoc(tok, file));
    }
    this.names.set(name, { values, tok });
  }
}

interface PendingCall { callee: string; tok: IToken }

class Builder {
  private calls: PendingCall[] = [];
  constructor(private file: string | undefined, private aliases: Map<string, string>, private source?: string) {}

  loc(t: IToken, locTok?: IToken): Location {
    const l: Location = tokLoc(t, this.file);
    const source = locTok ? resolveLoc(locTok.image, this.aliases) : undefined;
    return source ? { ...l, source } : l;
  }

  module(s: ModuleSyntax): Module {
    this.readMeshes(s.meshes);
    this.moduleAttrs = s.attrs ?? [];
    const funcs = s.funcs.map((f) => this.func(f));
    const seen = new Map<string, Func>();
    for (const [i, f] of funcs.entries()) {
      if (seen.has(f.name)) throw new ParseError(`function @${f.name} is defined twice`, tokLoc(s.funcs[i].nameTok, this.file));
      seen.set(f.name, f);
    }
    for (const c of this.calls) {
      if (!seen.has(c.callee)) throw new ParseError(`call to unknown function @${c.callee}`, tokLoc(c.tok, this.file));
    }
    const m: Module = { funcs };
    if (s.name !== undefined) m.name = s.name;
    if (s.attrs) m.attrs = entriesToText(s.attrs);
    return m;
  }

  func(s: FuncSyntaxT): Func {
    const vis = s.visibility?.image ?? 'public';
    if (vis !== 'public' && vis !== 'private') throw new ParseError(`unknown visibility '${vis}'`, tokLoc(s.visibility!, this.file));
    const scope = new Scope();
    const args = s.args.map((a) => {
      const v: Value = { type: parseTensorType(a.typeTok, this.file), name: a.name };
      scope.define(a.name, [v], a.tok, this.file);
      return v;
    });
    const body = this.block(s.body, scope, args, Op.FuncReturn, `@${s.name}`);
    const f: Func = {
      name: s.name, visibility: vis, args, resultTypes: s.results.map((r) => parseTensorType(r.typeTok, this.file)), body,
      loc: this.loc(s.tok, s.loc),
    };
    if (s.args.some((a) => a.attrs)) f.argAttrs = s.args.map((a) => (a.attrs ? entriesToText(a.attrs) : undefined));
    if (s.results.some((r) => r.attrs)) f.resultAttrs = s.results.map((r) => (r.attrs ? entriesToText(r.attrs) : undefined));
    return f;
  }

  block(r: RegionSyntax, scope: Scope, args: Value[], terminator: Op, owner: string): Block {
    const ops: Operation[] = [];
    for (const o of r.ops) {
      const prev = ops[ops.length - 1];
      if (prev && (prev.op === Op.Return || prev.op === Op.FuncReturn)) {
        throw new ParseError(`${owner}: an operation follows the terminator ${prev.op}`, tokLoc(o.nameTok, this.file));
      }
      if (this.identity(o, scope)) continue;
      const id = this.deviceId(o, scope) ?? this.composite(o, scope);
      if (id) { ops.push(id); continue; }
      ops.push(this.op(o, scope));
    }
    const last = ops[ops.length - 1];
    if (!last || last.op !== terminator) {
      const want = terminator === Op.FuncReturn ? 'return' : terminator;
      const at = last ? `ends with ${last.op}` : 'is empty';
      throw new ParseError(`${owner}: block ${at}; it must end with ${want}`, tokLoc(r.close, this.file));
    }
    return { args, ops };
  }

  /**
   * Sharding annotations that are identities on one device: `sdy.sharding_constraint`,
   * `sdy.reshard` and `stablehlo.custom_call @Sharding / @SPMDFullToShardShape /
   * @SPMDShardToFullShape` with one operand and one result of its type. Their result names the
   * operand's value, so no operation is built. Returns false for any other op.
   */
  identity(s: OpSyntax, scope: Scope): boolean {
    const target = customCallTarget(s);
    const collective = ONE_DEVICE_COLLECTIVES.has(s.name);
    if (!IDENTITY_OPS.has(s.name) && !(target && IDENTITY_CALLS.has(target.v)) && !collective) return false;
    const label = target ? `${s.name} @${target.v}` : s.name;
    const mesh = findMeshRef(s.pieces);
    if (mesh) this.checkMeshUse(mesh.v, mesh.tok, label);
    if (collective) this.checkOneDevice(s);
    const operands = s.generic ? s.operands : collectValues(s.pieces);
    const declared = s.results.reduce((k, r) => k + (r.count ?? 1), 0);
    if (operands.length === 0 || declared !== operands.length || (!collective && operands.length !== 1)) {
      throw new ParseError(`${label}: kiln runs this op as an identity on one device, so it needs as many results as operands`, tokLoc(s.nameTok, this.file));
    }
    const values = operands.map((o) => this.use(o.name, o.tok, scope));
    const sig = s.sig;
    const sigLists = [sig?.inputs ?? [], sig?.results ?? []].filter((l) => l.length > 0);
    for (const list of sigLists) {
      // A pretty op's trailing `: T` names one type for every operand and result.
      const types = list.map((t) => parseTensorType(t, this.file));
      values.forEach((v, i) => {
        const t = types.length === 1 ? types[0] : types[i];
        if (!t || !sameType(t, v.type)) {
          throw new ParseError(
            `${label}: ${operands[i].name} has type ${formatType(v.type)} but the op's signature says ${t ? formatType(t) : 'nothing'}; ` +
            'kiln runs this op as an identity on one device, which keeps the type', tokLoc(s.nameTok, this.file));
        }
      });
    }
    let k = 0;
    for (const r of s.results) {
      const n = r.count ?? 1;
      scope.define(r.name, values.slice(k, k + n), r.tok, this.file);
      k += n;
    }
    return true;
  }

  /**
   * `stablehlo.replica_id` / `stablehlo.partition_id` on one device: the constant 0 (a ui32
   * scalar), after the same one-device check as the collectives. Undefined for any other op.
   */
  deviceId(s: OpSyntax, scope: Scope): Operation | undefined {
    if (s.name !== 'stablehlo.replica_id' && s.name !== 'stablehlo.partition_id') return undefined;
    this.checkOneDevice(s);
    const typeTok = s.sig?.results?.[0] ?? s.sig?.inputs[0];
    const type = typeTok ? parseTensorType(typeTok, this.file) : undefined;
    const operands = s.generic ? s.operands : collectValues(s.pieces);
    if (!type || type.dtype !== 'ui32' || type.shape.length !== 0 || operands.length !== 0 || s.results.length !== 1 || (s.results[0].count ?? 1) !== 1) {
      throw new ParseError(`${s.name}: expected no operands and one tensor<ui32> result`, tokLoc(s.nameTok, this.file));
    }
    const result: Value = { type, name: s.results[0].name };
    scope.define(s.results[0].name, [result], s.results[0].tok, this.file);
    return {
      op: Op.Constant, operands: [], results: [result], attrs: { value: { splat: true, data: new Uint32Array([0]) } }, regions: [],
      loc: this.loc(s.nameTok, s.loc),
    } as Operation;
  }

  /**
   * `stablehlo.composite "name" ... decomposition = @f`: a call of its decomposition function,
   * which is what the composite means wherever no backend matches its name. Undefined for any
   * other op. The verifier checks the call's types against @f.
   */
  composite(s: OpSyntax, scope: Scope): Operation | undefined {
    if (s.name !== 'stablehlo.composite') return undefined;
    const attrs = s.generic ? s.attrs : s.pieces.flatMap((p) => (p.k === 'ident' && p.value ? [{ key: p.v, value: p.value }] : []));
    const d = attrs.find((e) => e.key === 'decomposition')?.value;
    if (!d || d.k !== 'sym' || !s.sig?.results) {
      throw new ParseError(`${s.name}: expected the generic form with decomposition = @function and a (...) -> (...) type`, tokLoc(s.nameTok, this.file));
    }
    const operands = (s.generic ? s.operands : collectValues(s.pieces)).map((o) => this.use(o.name, o.tok, scope));
    const results: Value[] = s.sig.results.map((t) => ({ type: parseTensorType(t, this.file) }));
    const declared = s.results.reduce((k, r) => k + (r.count ?? 1), 0);
    if (declared !== results.length) throw new ParseError(`${s.name}: ${declared} result name(s) for ${results.length} result type(s)`, tokLoc(s.nameTok, this.file));
    let k = 0;
    for (const r of s.results) {
      const group = results.slice(k, k + (r.count ?? 1));
      group.forEach((v, j) => { v.name = r.count !== undefined ? `${r.name}#${j}` : r.name; });
      scope.define(r.name, group, r.tok, this.file);
      k += group.length;
    }
    this.calls.push({ callee: d.v, tok: s.nameTok });
    return { op: Op.Call, operands, results, attrs: { callee: d.v }, regions: [], loc: this.loc(s.nameTok, s.loc) } as Operation;
  }

  /** Module attributes (`mhlo.num_replicas`, `mhlo.num_partitions`), for the collectives' device check. */
  moduleAttrs: AttrEntry[] = [];

  /**
   * A collective is an identity only where it spans one device: the module has one replica and one
   * partition, every replica group is `{0}`, and `collective_permute` sends device 0 to itself.
   */
  checkOneDevice(s: OpSyntax): void {
    const refuse = (why: string): never => {
      throw new UnsupportedOpError(`${s.name}: ${why}; kiln runs on one device, where a collective over one device is an identity`, tokLoc(s.nameTok, this.file));
    };
    for (const key of ['mhlo.num_replicas', 'mhlo.num_partitions']) {
      const a = this.moduleAttrs.find((e) => e.key === key)?.value;
      if (a && a.k === 'int' && Number(a.text) !== 1) refuse(`the module has ${key} = ${a.text}`);
    }
    const attrs = s.generic ? s.attrs : s.pieces.flatMap((p) => (p.k === 'ident' && p.value ? [{ key: p.v, value: p.value }] : []));
    const ids = (key: string): number[][] | undefined => {
      const a = attrs.find((e) => e.key === key)?.value;
      if (!a || a.k !== 'dense') return undefined;
      const rows: number[][] = [];
      const walk = (n: DenseNode | undefined, row: number[] | undefined): void => {
        if (!n) return;
        if (n.k === 'list') {
          if (n.items.every((x) => x.k !== 'list')) { const r: number[] = []; n.items.forEach((x) => walk(x, r)); rows.push(r); } else n.items.forEach((x) => walk(x, undefined));
        } else if (n.k === 'num') (row ?? (rows.push([]), rows[rows.length - 1])).push(Number(n.text));
      };
      if (a.body?.k === 'num' && a.typeTok) {
        // A splat: every entry of the typed shape holds the one value.
        const [r = 1, c = 1] = parseTensorType(a.typeTok, this.file).shape;
        return Array.from({ length: r }, () => Array<number>(c).fill(Number((a.body as { text: string }).text)));
      }
      walk(a.body, undefined);
      return rows;
    };
    if (s.name === 'stablehlo.replica_id' || s.name === 'stablehlo.partition_id') return;
    if (s.name === 'stablehlo.collective_permute') {
      const pairs = ids('source_target_pairs');
      if (!pairs || pairs.length !== 1 || pairs[0].join(',') !== '0,0') refuse(`source_target_pairs must be [[0, 0]] (got ${JSON.stringify(pairs ?? 'none')})`);
      return;
    }
    const groups = ids('replica_groups');
    if (!groups) refuse('it has no replica_groups');
    if (groups!.some((g) => g.length > 1 || g.some((d) => d !== 0))) refuse(`replica_groups ${JSON.stringify(groups)} span more than device 0`);
  }

  /** `sdy.mesh` declarations by name, with their axis sizes; a mesh of more than one device is refused. */
  meshes = new Map<string, { axes: string; devices: number; tok: IToken }>();

  readMeshes(toks: IToken[]): void {
    for (const t of toks) {
      const name = /@([\w$.-]+)/.exec(t.image)![1];
      const inner = /=\s*<\s*\[([^\]]*)\]/.exec(t.image)?.[1] ?? '';
      const sizes = [...inner.matchAll(/"([^"]*)"\s*=\s*(\d+)/g)];
      const devices = sizes.reduce((n, m) => n * Number(m[2]), 1);
      const axes = sizes.map((m) => `${m[1]}=${m[2]}`).join(', ');
      const ids = /device_ids\s*=\s*\[([^\]]*)\]/.exec(t.image)?.[1];
      if (devices !== 1 || (ids !== undefined && ids.trim() !== '0')) {
        throw new UnsupportedOpError(
          `sdy.mesh @${name} = <[${axes}]> spans ${devices} devices${ids !== undefined ? ` (device_ids = [${ids}])` : ''}; ` +
          'kiln runs on one device and only accepts one-device meshes', tokLoc(t, this.file));
      }
      this.meshes.set(name, { axes, devices, tok: t });
    }
  }

  checkMeshUse(name: string, tok: IToken, label: string): void {
    if (!this.meshes.has(name)) throw new ParseError(`${label}: unknown mesh @${name}`, tokLoc(tok, this.file));
  }

  op(s: OpSyntax, scope: Scope): Operation {
    const target = customCallTarget(s);
    if (target && !targetRule(target.v)) {
      throw new UnsupportedOpError(
        `stablehlo.custom_call @${target.v} is not supported: custom calls run backend-specific code (e.g. LAPACK or cuDNN kernels); ` +
        `kiln runs only ${Object.keys(CUSTOM_CALLS).map((t) => `@${t}`).join(', ')}`, tokLoc(s.nameTok, this.file));
    }
    const op = resolveOpName(s.name, s.nameTok, this.file);
    const n = normalizeOp(s, op, this.file);
    const loc = this.loc(s.nameTok, s.loc);

    const operands = n.operands.map((ref, i) => {
      const v = this.use(ref.name, ref.tok, scope);
      const want = n.operandTypes[i];
      if (want && !sameType(v.type, want)) {
        throw new ParseError(`${s.name}: ${ref.name} has type ${formatType(v.type)} but is used as ${formatType(want)}`, tokLoc(ref.tok, this.file));
      }
      return v;
    });

    const reader = new AttrReader(op, n.attrs, n.operandTypes, n.resultTypes, loc, this.file, this.source);
    const attrs = (attrRules[op] as (r: AttrReader) => OpAttrs[Op])(reader);
    reader.finish();
    if (op === Op.Call) this.calls.push({ callee: (attrs as OpAttrs[Op.Call]).callee, tok: s.nameTok });

    const regions = n.regions.map((plan) => this.region(plan, scope, s));

    // Results: `%1:2 = ` or `%a, %b = ` against the op's result types.
    const results: Value[] = n.resultTypes.map((type) => ({ type }));
    const declared = s.results.reduce((k, r) => k + (r.count ?? 1), 0);
    if (s.results.length > 0 && declared !== results.length) {
      const names = s.results.map((r) => (r.count !== undefined ? `${r.name}:${r.count}` : r.name)).join(', ');
      throw new ParseError(
        `${s.name}: ${names} names ${declared} result(s) but the op has ${results.length} result type(s)`, tokLoc(s.results[0].tok, this.file));
    }
    let k = 0;
    for (const r of s.results) {
      const group = results.slice(k, k + (r.count ?? 1));
      group.forEach((v, j) => { v.name = r.count !== undefined ? `${r.name}#${j}` : r.name; });
      scope.define(r.name, group, r.tok, this.file);
      k += group.length;
    }
    const built = { op, operands, results, attrs, regions, loc } as Operation;
    checkStructure(built, loc);
    return built;
  }

  region(plan: RegionPlan, parent: Scope, s: OpSyntax): Region {
    const scope = new Scope(parent);
    if (plan.kind === 'applies') {
      const body = resolveOpName(plan.op, plan.tok, this.file);
      // The shorthand stands for `(a, b) { return op(a, b) }`: only attribute-free binary ops fit.
      if (!BinaryElementwise.has(body) || body === Op.Compare) {
        throw new ParseError(`${s.name}: 'applies ${plan.op}' needs a binary elementwise op such as stablehlo.add`, tokLoc(plan.tok, this.file));
      }
      const args: Value[] = plan.argTypes.map((type, i) => ({ type, name: `%applies${i}` }));
      const result: Value = { type: plan.argTypes[0] };
      const loc = this.loc(plan.tok);
      const inner = { op: body, operands: args, results: [result], attrs: {}, regions: [], loc } as Operation;
      const ret = { op: Op.Return, operands: [result], results: [], attrs: {}, regions: [], loc } as Operation;
      return { block: { args, ops: [inner, ret] } };
    }
    const args = plan.args.map((a) => {
      const v: Value = { type: a.type, name: a.name };
      scope.define(a.name, [v], a.tok, this.file);
      return v;
    });
    return { block: this.block(plan.syntax, scope, args, Op.Return, s.name) };
  }

  /** `%x`, or `%x#1` for one result of a multi-result op. */
  use(name: string, tok: IToken, scope: Scope): Value {
    const hash = name.indexOf('#');
    const base = hash < 0 ? name : name.slice(0, hash);
    const g = scope.lookupGroup(base);
    if (!g) throw new ParseError(`use of undefined value ${name}`, tokLoc(tok, this.file));
    if (hash < 0) {
      if (g.values.length !== 1) {
        throw new ParseError(`${name} has ${g.values.length} results; use ${name}#0 to ${name}#${g.values.length - 1}`, tokLoc(tok, this.file));
      }
      return g.values[0];
    }
    const i = Number(name.slice(hash + 1));
    if (i >= g.values.length) throw new ParseError(`${name}: ${base} has only ${g.values.length} result(s)`, tokLoc(tok, this.file));
    return g.values[i];
  }
}

type FuncSyntaxT = ModuleSyntax['funcs'][number];


/** The `@target` of a `stablehlo.custom_call` (pretty: a symbol piece; generic: `call_target_name`). */
function customCallTarget(s: OpSyntax): { v: string; tok: IToken } | undefined {
  if (s.name !== 'stablehlo.custom_call') return undefined;
  if (s.generic) {
    const a = s.attrs.find((e) => e.key === 'call_target_name')?.value;
    if (a && (a.k === 'str' || a.k === 'sym')) return { v: a.v, tok: a.tok };
    return { v: '?', tok: s.nameTok };
  }
  const sym = s.pieces.find((p) => p.k === 'sym');
  return sym && sym.k === 'sym' ? { v: sym.v, tok: sym.tok } : { v: '?', tok: s.nameTok };
}

/** Operand values of a pretty op, in order, through parenthesized groups. */
function collectValues(pieces: Piece[]): { name: string; tok: IToken }[] {
  const out: { name: string; tok: IToken }[] = [];
  for (const p of pieces) {
    if (p.k === 'value') out.push({ name: p.name, tok: p.tok });
    else if (p.k === 'group') out.push(...collectValues(p.pieces));
  }
  return out;
}

/** The mesh a Shardy annotation names: `<@mesh, [...]>`. */
function findMeshRef(pieces: Piece[]): { v: string; tok: IToken } | undefined {
  for (const p of pieces) {
    if (p.k === 'angle') {
      const sym = p.pieces.find((q) => q.k === 'sym');
      if (sym && sym.k === 'sym') return { v: sym.v, tok: sym.tok };
    }
  }
  return undefined;
}

/** The StableHLO ops that compute or consume shapes at run time: refused, saying so. */
const DYNAMIC_SHAPE_OPS = new Set([
  'dynamic_broadcast_in_dim', 'dynamic_reshape', 'get_dimension_size', 'set_dimension_size', 'real_dynamic_slice',
  'dynamic_pad', 'dynamic_iota', 'dynamic_conv', 'dynamic_gather', 'compute_reshape_shape',
].flatMap((n) => [`stablehlo.${n}`, `mhlo.${n}`]));

/** The op for a name, or the error that names it. */
function resolveOpName(name: string, tok: IToken, file?: string): Op {
  const op = opFromName(name);
  if (op) return op;
  if (DYNAMIC_SHAPE_OPS.has(name)) {
    throw new UnsupportedOpError(`unsupported op ${name}: dynamic shapes are not supported (kiln compiles static shapes, as jax.jit traces them)`, tokLoc(tok, file));
  }
  const known = /^(stablehlo|chlo|mhlo|func|sdy)\./.test(name);
  throw new UnsupportedOpError(known ? `unsupported op ${name}` : `unknown op ${name}`, tokLoc(tok, file));
}

function entriesToText(entries: AttrEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) out[e.key] = e.value ? formatAttr(e.value) : 'unit';
  return out;
}

/**
 * Resolves `loc(#loc3)` through aliases and returns the most useful source text: the first
 * `"file":line:col` inside it (the innermost frame), else the whole resolved text; `unknown` gives
 * undefined.
 */
export function resolveLoc(text: string, aliases: Map<string, string>, depth = 0): string | undefined {
  let body = text.startsWith('loc(') ? text.slice(4, -1) : text;
  if (depth < 32) {
    body = body.replace(/#loc\w*/g, (a) => {
      const t = aliases.get(a);
      return t ? resolveLoc(t, aliases, depth + 1) ?? 'unknown' : a;
    });
  }
  if (body === 'unknown') return undefined;
  const file = /"[^"]*":\d+:\d+(?: to (?:\d+)?:\d+)?/.exec(body);
  return file ? file[0] : body;
}

/**
 * Parses StableHLO text (as JAX prints it) into a module. `file` only labels error locations;
 * `limits` bounds what one text may cost (the server passes its own), checked before lexing.
 * @throws ParseError or UnsupportedOpError, each with the line and column of the problem.
 */
export function parseModule(text: string, file?: string, limits?: ParseLimits): Module {
  try {
    grammar.input = tokenize(text, file, limits);
    const syntax = grammar.module();
    if (grammar.errors.length > 0) {
      const e = grammar.errors[0];
      const t = e.token;
      const atEnd = t.tokenType?.name === 'EOF' || Number.isNaN(t.startLine);
      const lines = text.split('\n');
      const loc = atEnd ? { file, line: lines.length, column: lines[lines.length - 1].length + 1 } : tokLoc(t, file);
      // A token's image can be megabytes long (`xxxx...`): quote at most 60 characters of it.
      const msg = e.message.replace(/\s+/g, ' ').replace(/-->\s*|\s*<--/g, '').replace(/'([^']{60})[^']{4,}'/g, "'$1...'");
      throw new ParseError(atEnd ? `unexpected end of input: ${msg}` : `syntax error: ${msg}`, loc);
    }
    if (grammar.input.length === 0) throw new ParseError('empty input: expected a module', { file, line: 1, column: 1 });
    return new Builder(file, syntax.aliases, text).module(syntax);
  } catch (e) {
    if (e instanceof KilnError) throw e;
    // Never a raw stack trace: an unexpected failure is still reported against the input.
    throw new ParseError(`internal parser error: ${(e as Error)?.message ?? String(e)}`, { file, line: 1, column: 1 });
  }
}
