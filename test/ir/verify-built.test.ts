/**
 * @file Verifier tests on modules built in code, as the tracer and the compiler's passes build
 * them: things the parser cannot produce (a value used outside its scope, a body whose arguments
 * are not the function's) and the structural checks (terminators, entry, recursion).
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError, VerifyError, type Location } from '../../ir/errors.js';
import { Op, type OpAttrs } from '../../ir/ops.js';
import type { Func, Module, Operation, TensorType, Value } from '../../ir/types.js';
import { entryFunction, verifyFunc, verifyModule } from '../../ir/verify.js';

const f32 = (...shape: number[]): TensorType => ({ dtype: 'f32', shape });
const at = (line: number): Location => ({ file: 'built', line, column: 5 });
const val = (type: TensorType, name?: string): Value => ({ type, name });

function op<K extends Op>(o: K, operands: Value[], results: Value[], attrs: OpAttrs[K], line: number): Operation {
  return { op: o, operands, results, attrs, regions: [], loc: at(line) } as unknown as Operation;
}
function fn(name: string, args: Value[], resultTypes: TensorType[], ops: Operation[], visibility: 'public' | 'private' = 'public'): Func {
  return { name, visibility, args, resultTypes, body: { args, ops }, loc: at(1) };
}
const none = {} as Record<string, never>;

function expectError(m: Module, cls: typeof VerifyError | typeof UnsupportedOpError, line: number | undefined, match: RegExp): void {
  let caught: unknown;
  try { verifyModule(m); } catch (e) { caught = e; }
  expect(caught).toBeInstanceOf(cls);
  const e = caught as VerifyError;
  expect(e.loc?.line).toBe(line);
  expect(e.detail).toMatch(match);
}

/** `main(x) = neg(x)` with the given ops appended before the return. */
function negModule(): { m: Module; x: Value; y: Value } {
  const x = val(f32(4), '%x');
  const y = val(f32(4), '%y');
  const m = { funcs: [fn('main', [x], [f32(4)], [op(Op.Negate, [x], [y], none, 2), op(Op.FuncReturn, [y], [], none, 3)])] };
  return { m, x, y };
}

describe('verifyModule on built modules', () => {
  it('accepts a well-formed module', () => {
    expect(() => verifyModule(negModule().m)).not.toThrow();
  });

  it('refuses a use before definition', () => {
    const { m, y } = negModule();
    const z = val(f32(4), '%z');
    m.funcs[0].body.ops.unshift(op(Op.Exp, [y], [z], none, 9));
    expectError(m, VerifyError, 9, /^stablehlo\.exponential: operand %y is not defined before this use/);
  });

  it('refuses a value of a region used outside it', () => {
    const x = val(f32(), '%x');
    const a = val(f32(), '%a');
    const b = val(f32(), '%b');
    const inner = val(f32(), '%inner');
    const r = val(f32(), '%r');
    const body = { block: { args: [a, b], ops: [op(Op.Add, [a, b], [inner], none, 3), op(Op.Return, [inner], [], none, 4)] } };
    const reduce = { ...op(Op.Reduce, [x, x], [val(f32(), '%red')], { dims: [] }, 2), regions: [body] };
    const m = { funcs: [fn('main', [x], [f32()], [reduce, op(Op.Add, [inner, x], [r], none, 5), op(Op.FuncReturn, [r], [], none, 6)])] };
    expectError(m, VerifyError, 5, /operand %inner is not defined before this use \(or is out of scope\)/);
  });

  it('refuses a missing terminator, and one that is not last', () => {
    const { m } = negModule();
    m.funcs[0].body.ops.pop();
    expectError(m, VerifyError, 1, /@main does not end in func\.return/);
    const { m: m2, y } = negModule();
    m2.funcs[0].body.ops.splice(1, 0, op(Op.FuncReturn, [y], [], none, 7));
    expectError(m2, VerifyError, 7, /func\.return must be the last operation of @main/);
  });

  it('refuses stablehlo.return closing a function', () => {
    const { m } = negModule();
    m.funcs[0].body.ops[1] = op(Op.Return, [m.funcs[0].body.ops[0].results[0]], [], none, 3);
    expectError(m, VerifyError, 3, /stablehlo\.return cannot end @main, which needs func\.return/);
  });

  it('refuses f64 values with the dtype message; bf16 and i8 verify (emulated in 32 bits by a pass)', () => {
    const x = val({ dtype: 'f64', shape: [2] }, '%x');
    expectError({ funcs: [fn('main', [x], [], [op(Op.FuncReturn, [], [], none, 2)])] }, UnsupportedOpError, 1, /argument %x has type tensor<2xf64>: f64 is not supported: WebGPU has no 64-bit floats/);
    const i8 = negModule();
    i8.m.funcs[0].args[0].type = { dtype: 'i8', shape: [4] };
    i8.y.type = { dtype: 'i8', shape: [4] };
    i8.m.funcs[0].resultTypes = [{ dtype: 'i8', shape: [4] }];
    expect(() => verifyModule(i8.m)).not.toThrow();
    const b = negModule();
    b.m.funcs[0].args[0].type = { dtype: 'bf16', shape: [4] };
    b.y.type = { dtype: 'bf16', shape: [4] };
    b.m.funcs[0].resultTypes = [{ dtype: 'bf16', shape: [4] }];
    expect(() => verifyModule(b.m)).not.toThrow();
  });

  it('needs an entry function', () => {
    const { m } = negModule();
    m.funcs[0].name = 'f';
    expect(entryFunction(m).name).toBe('f');
    m.funcs[0].visibility = 'private';
    expectError(m, VerifyError, undefined, /has no entry function: there is no @main and it has no public function/);
    const two = { funcs: [{ ...negModule().m.funcs[0], name: 'a' }, { ...negModule().m.funcs[0], name: 'b' }] };
    expectError(two, VerifyError, undefined, /it has 2 public functions \(@a, @b\)/);
  });

  it('refuses two functions of one name', () => {
    const { m } = negModule();
    m.funcs.push(negModule().m.funcs[0]);
    expectError(m, VerifyError, 1, /@main is defined twice/);
  });

  it('refuses recursion through calls', () => {
    const mk = (name: string, callee: string, vis: 'public' | 'private', line: number): Func => {
      const x = val(f32(4), '%x');
      const y = val(f32(4), '%y');
      return fn(name, [x], [f32(4)], [op(Op.Call, [x], [y], { callee }, line), op(Op.FuncReturn, [y], [], none, line + 1)], vis);
    };
    const m = { funcs: [mk('main', 'f', 'public', 10), mk('f', 'g', 'private', 20), mk('g', 'f', 'private', 30)] };
    expectError(m, VerifyError, 30, /^func\.call: recursion is not supported: @f -> @g -> @f$/);
  });

  it('checks one function alone, refusing calls it cannot look up', () => {
    expect(() => verifyFunc(negModule().m.funcs[0])).not.toThrow();
    const x = val(f32(4), '%x');
    const y = val(f32(4), '%y');
    const f = fn('main', [x], [f32(4)], [op(Op.Call, [x], [y], { callee: 'g' }, 2), op(Op.FuncReturn, [y], [], none, 3)]);
    expect(() => verifyFunc(f)).toThrow(/func\.call: calls @g, but no module was given/);
    expect(() => verifyFunc(f, () => ({ args: [f32(4)], results: [f32(4)] }))).not.toThrow();
  });

  it('refuses a body whose arguments are not the function arguments', () => {
    const { m } = negModule();
    m.funcs[0].body = { ...m.funcs[0].body, args: [val(f32(4))] };
    expectError(m, VerifyError, 1, /its arguments are not the arguments of its body/);
  });
});
