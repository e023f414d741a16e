/**
 * @file The verifier: checks that a module means something kiln can run before anything else
 * looks at it. Every value has a supported element type, every value is defined before it is
 * used, every op's declared result types are what its shape rule infers, regions have the
 * signatures their ops require and end in the right terminator, functions return what they
 * declare, calls match their callees and never recurse, and there is one entry function.
 * It throws the first problem it finds, as a {@link VerifyError} or {@link UnsupportedOpError}
 * located at the op.
 */
import { isComplex, isInt64, unsupportedDTypeReason } from './dtype.js';
import { UnsupportedOpError, VerifyError, type Location } from './errors.js';
import { ComplexOps, Int64Ops, isInt64Index, Op, regionCount, Terminators } from './ops.js';
import { fmtTypes, inferResultTypes, regionSignatures, type FuncSignature } from './shapes.js';
import { formatType, sameType, shapeProblem, type AnyOperation, type Block, type Func, type Module, type Operation, type TensorType, type Value } from './types.js';

/**
 * Checks a whole module; returns normally only if it is valid. Throws the first
 * {@link VerifyError} (or {@link UnsupportedOpError}, for a 64-bit or bf16 value type) found,
 * with the location of the op, function or terminator at fault.
 */
export function verifyModule(m: Module): void {
  const byName = new Map<string, Func>();
  for (const f of m.funcs) {
    if (byName.has(f.name)) throw new VerifyError(`func.func: @${f.name} is defined twice`, f.loc);
    byName.set(f.name, f);
  }
  entryFunction(m);
  const signatureOf = (name: string): FuncSignature | undefined => {
    const f = byName.get(name);
    return f && { args: f.args.map((a) => a.type), results: f.resultTypes };
  };
  const calls = new Map<string, CallSite[]>();
  for (const f of m.funcs) calls.set(f.name, verifyFuncBody(f, signatureOf));
  checkNoRecursion(m, calls);
}

/**
 * Checks one function on its own. Calls are checked against `signatureOf` when given; without
 * it, a function that contains a `func.call` is refused (its callee's types are unknown).
 */
export function verifyFunc(f: Func, signatureOf?: (name: string) => FuncSignature | undefined): void {
  verifyFuncBody(f, signatureOf);
}

/** The function a module runs: `@main` if present, else its only public function. */
export function entryFunction(m: Module): Func {
  const main = m.funcs.find((f) => f.name === 'main');
  if (main) return main;
  const pub = m.funcs.filter((f) => f.visibility === 'public');
  if (pub.length === 1) return pub[0];
  const why = pub.length === 0 ? 'it has no public function' : `it has ${pub.length} public functions (${pub.map((f) => `@${f.name}`).join(', ')})`;
  throw new VerifyError(`module${m.name ? ` @${m.name}` : ''} has no entry function: there is no @main and ${why}`);
}

interface CallSite { callee: string; loc?: Location }

function nameOf(v: Value, fallback: string): string {
  return v.name ?? fallback;
}

/** Refuses element types kiln cannot compute on (f64, i8, ...), naming the value. */
function checkValueType(t: TensorType, what: string, loc: Location | undefined): void {
  // bf16 is emulated in f32 by a pass both devices run (compiler/passes/bf16.ts).
  const why = t.dtype === 'bf16' ? undefined : unsupportedDTypeReason(t.dtype);
  if (why) throw new UnsupportedOpError(`${what} has type ${formatType(t)}: ${why}`, loc);
  if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new VerifyError(`${what} has a bad shape ${formatType(t)}`, loc);
  const tooBig = shapeProblem(t.shape);
  if (tooBig) throw new UnsupportedOpError(`${what} has type ${formatType(t)}: ${tooBig}`, loc);
}

function verifyFuncBody(f: Func, signatureOf: ((name: string) => FuncSignature | undefined) | undefined): CallSite[] {
  const v = new FuncVerifier(signatureOf);
  if (f.args !== f.body.args && !(f.args.length === f.body.args.length && f.args.every((a, i) => a === f.body.args[i]))) {
    throw new VerifyError(`func.func: @${f.name}: its arguments are not the arguments of its body`, f.loc);
  }
  f.resultTypes.forEach((t, i) => checkValueType(t, `func.func: @${f.name}: result #${i}`, f.loc));
  const ret = v.block(f.body, new Set(), Op.FuncReturn, f.loc, `@${f.name}`, (a, i) => `func.func: @${f.name}: argument ${nameOf(a, `#${i}`)}`);
  const got = ret.operands.map((x) => x.type);
  if (got.length !== f.resultTypes.length || got.some((t, i) => !sameType(t, f.resultTypes[i]))) {
    throw new VerifyError(`func.return: @${f.name} returns ${fmtTypes(got)}, but its signature says ${fmtTypes(f.resultTypes)}`, ret.loc ?? f.loc);
  }
  return v.calls;
}

/** Walks one function's blocks, keeping the values in scope at each point. */
class FuncVerifier {
  readonly calls: CallSite[] = [];

  constructor(private readonly signatureOf: ((name: string) => FuncSignature | undefined) | undefined) {}

  /**
   * Verifies a block whose values may also use `outer` (StableHLO regions may read values of
   * enclosing blocks), and returns its terminator, which must be `term` and come last.
   */
  block(
    b: Block, outer: ReadonlySet<Value>, term: Op.Return | Op.FuncReturn, ownerLoc: Location | undefined, owner: string,
    argWhat: (a: Value, i: number) => string,
  ): Operation {
    const scope = new Set(outer);
    b.args.forEach((a, i) => {
      checkValueType(a.type, argWhat(a, i), ownerLoc);
      scope.add(a);
    });
    b.ops.forEach((o, i) => {
      if (Terminators.has(o.op)) {
        if (o.op !== term) throw new VerifyError(`${o.op} cannot end ${owner}, which needs ${term}`, o.loc ?? ownerLoc);
        if (i !== b.ops.length - 1) throw new VerifyError(`${o.op} must be the last operation of ${owner}`, o.loc ?? ownerLoc);
      }
      this.op(o, scope);
      for (const r of o.results) scope.add(r);
    });
    const last = b.ops[b.ops.length - 1];
    if (!last || last.op !== term) throw new VerifyError(`${owner} does not end in ${term}`, ownerLoc);
    return last;
  }

  private op(o: Operation, scope: ReadonlySet<Value>): void {
    const fail = (detail: string, loc = o.loc): never => {
      throw new VerifyError(`${o.op}: ${detail}`, loc);
    };
    o.operands.forEach((x, i) => {
      if (!scope.has(x)) fail(`operand ${nameOf(x, `#${i}`)} is not defined before this use (or is out of scope)`);
    });
    o.results.forEach((r, i) => checkValueType(r.type, `${o.op}: result ${nameOf(r, `#${i}`)}`, o.loc));
    if (!Int64Ops.has(o.op)) {
      const wide = [...o.operands.filter((_, i) => !isInt64Index(o.op, i)), ...o.results].find((x) => isInt64(x.type.dtype));
      if (wide) {
        throw new UnsupportedOpError(
          `${o.op}: ${nameOf(wide, 'a value')} has type ${formatType(wide.type)}: kiln emulates i64/ui64 only in ` +
          'elementwise integer ops, compare, convert, select, clamp and data movement (constant, iota, broadcast_in_dim, ' +
          'reshape, transpose, slice, dynamic_slice, concatenate, reverse) and as start indices', o.loc);
      }
    }
    if (!ComplexOps.has(o.op)) {
      const z = [...o.operands, ...o.results].find((x) => isComplex(x.type.dtype));
      if (z) {
        throw new UnsupportedOpError(
          `${o.op}: ${nameOf(z, 'a value')} has type ${formatType(z.type)}: ${o.op} is not defined on complex numbers ` +
          '(kiln takes complex<f32> in arithmetic, exp/log/sqrt/rsqrt/sin/cos/tanh/power, abs, sign, real/imag/complex, ' +
          'compare EQ/NE, select, convert, data movement, gather/scatter, reduce, dot_general, fft and control flow)', o.loc);
      }
    }
    const want = regionCount(o.op);
    if (want === 'variadic' ? o.regions.length < 1 : o.regions.length !== want) {
      fail(`has ${o.regions.length} regions, expected ${want === 'variadic' ? 'at least 1' : want}`);
    }
    const any = o as AnyOperation;
    if (any.op === Op.Call) {
      if (!this.signatureOf) fail(`calls @${any.attrs.callee}, but no module was given to look it up in`);
      this.calls.push({ callee: any.attrs.callee, loc: o.loc });
    }

    const operandTypes = o.operands.map((x) => x.type);
    const declared = o.results.map((r) => r.type);
    const extras = { resultTypes: declared, signatureOf: this.signatureOf, operandNames: o.operands.map((x) => x.name) };
    const inferred = inferResultTypes(o.op, operandTypes, o.attrs, o.regions, o.loc, extras);
    if (inferred.length !== declared.length) fail(`has ${declared.length} results, but its operands give ${inferred.length}`);
    inferred.forEach((t, i) => {
      if (!sameType(t, declared[i])) {
        fail(`result ${nameOf(o.results[i], `#${i}`)} is declared ${formatType(declared[i])}, but its operands give ${formatType(t)}`);
      }
    });

    const sigs = regionSignatures(o.op, operandTypes, o.attrs, o.regions, inferred, o.loc, extras);
    o.regions.forEach((r, i) => {
      const sig = sigs[i];
      const owner = `the ${sig.name} region of ${o.op}`;
      const args = r.block.args.map((a) => a.type);
      if (args.length !== sig.args.length || args.some((t, j) => !sameType(t, sig.args[j]))) {
        fail(`the ${sig.name} region takes ${fmtTypes(args)}, expected ${fmtTypes(sig.args)}`);
      }
      const ret = this.block(r.block, scope, Op.Return, o.loc, owner, (a, j) => `${o.op}: ${sig.name} argument ${nameOf(a, `#${j}`)}`);
      const got = ret.operands.map((x) => x.type);
      if (got.length !== sig.returns.length || got.some((t, j) => !sameType(t, sig.returns[j]))) {
        throw new VerifyError(`stablehlo.return: ${owner} returns ${fmtTypes(got)}, expected ${fmtTypes(sig.returns)}`, ret.loc ?? o.loc);
      }
    });
  }
}

/** Refuses call cycles: kiln inlines calls, and a recursive function would never finish inlining. */
function checkNoRecursion(m: Module, calls: ReadonlyMap<string, CallSite[]>): void {
  const state = new Map<string, 'active' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'active');
    path.push(name);
    for (const site of calls.get(name) ?? []) {
      const s = state.get(site.callee);
      if (s === 'active') {
        const cycle = [...path.slice(path.indexOf(site.callee)), site.callee].map((n) => `@${n}`).join(' -> ');
        throw new VerifyError(`func.call: recursion is not supported: ${cycle}`, site.loc);
      }
      if (s === undefined) visit(site.callee);
    }
    path.pop();
    state.set(name, 'done');
  };
  for (const f of m.funcs) if (!state.has(f.name)) visit(f.name);
}
