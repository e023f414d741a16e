/**
 * @file The regularized incomplete gamma functions of `jax.lax`: `igamma` (P(a, x)), `igammac`
 * (Q(a, x) = 1 - P), `igammaGradA` (dP/da) and `randomGammaGrad` (the derivative of a Gamma(a, 1)
 * sample w.r.t. a, by implicit reparameterization). They follow JAX's jax/_src/lax/special.py, a
 * port of XLA's math.cc: a power series below x = max(1, a) and a continued fraction above it, each
 * a `lax.whileLoop` over the whole array that stops when every element has converged (a converged
 * element keeps its values through `select`), so every element gets exactly the terms it would get
 * alone and both devices agree with JAX. `igamma` and `igammac` carry JAX's JVP rules (via
 * `customJvp`), so `grad` works through them although the loops themselves are not
 * reverse-differentiable; `igammaGradA` and `randomGammaGrad` have no derivative (as in JAX).
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import { customJvp } from '../autodiff/custom.js';
import * as ilax from '../lax.js';
import type { Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';
import { whileLoop } from './control.js';
import { same } from './ops.js';

/** numpy.finfo(float32).eps, and -log(finfo(float32).max): below it exp(ax) underflows. */
const EPS = 2 ** -23;
const LOG_MAX = Math.log(3.4028234663852886e38);

type V = KArray | number;
/** Elementwise f32 arithmetic on Arrays of one shape; a JS number is broadcast to the other operand's shape. */
function lift(x: V, like: KArray): KArray {
  return typeof x === 'number' ? ilax.constant(like.dtype, like.shape, x) : x;
}
function bin(op: Op) {
  return (x: V, y: V): KArray => {
    const like = (typeof x === 'number' ? y : x) as KArray;
    return ilax.binary(op, lift(x, like), lift(y, like));
  };
}
const add = bin(Op.Add), sub = bin(Op.Subtract), mul = bin(Op.Multiply), div = bin(Op.Divide);
const and = bin(Op.And), or = bin(Op.Or);
const not = (x: KArray) => ilax.unary(Op.Not, x);
const abs = (x: KArray) => ilax.unary(Op.Abs, x);
const log = (x: KArray) => ilax.unary(Op.Log, x);
const exp = (x: KArray) => ilax.unary(Op.Exp, x);
const cmp = (dir: 'LT' | 'LE' | 'GT' | 'GE' | 'EQ' | 'NE') => (x: V, y: V): KArray => {
  const like = (typeof x === 'number' ? y : x) as KArray;
  return ilax.compare(dir, lift(x, like), lift(y, like));
};
const lt = cmp('LT'), le = cmp('LE'), gt = cmp('GT'), ge = cmp('GE'), eq = cmp('EQ'), ne = cmp('NE');
const sel = ilax.select;
const full = (like: KArray, v: number) => ilax.constant(like.dtype, like.shape, v);
const isnan = (x: KArray) => ne(x, x);
/** Whether any element of the boolean Array `x` is true (a boolean scalar). */
function any(x: KArray): KArray {
  return ilax.reduce([x], [ilax.constant('i1', [], 0)], x.shape.map((_, i) => i), ilax.binaryBody(Op.Or))[0];
}

/** What the series and the continued fraction compute: P or Q, dP/da, or d(sample)/da. */
type Mode = 'value' | 'derivative' | 'sampleDerivative';

/** JAX's `_igamma_series`: P(a, x) (or its derivatives) by the power series, for x < max(1, a). */
function series(ax: KArray, x: KArray, a: KArray, enabled: KArray, mode: Mode): KArray {
  type S = [KArray, KArray, KArray, KArray, KArray, KArray];
  const init: S = [enabled, a, full(a, 1), full(a, 1), full(a, 0), full(a, 0)];
  const [, , , ans, , dansDa] = whileLoop((s: S) => any(s[0]), ([on, r0, c0, ans0, dcDa0, dansDa0]: S): S => {
    const r = add(r0, 1);
    const dcDa = sub(mul(dcDa0, div(x, r)), div(mul(c0, x), mul(r, r)));
    const dansDa = add(dansDa0, dcDa);
    const c = mul(c0, div(x, r));
    const ans = add(ans0, c);
    const going = mode === 'value' ? gt(div(c, ans), EPS) : gt(abs(div(dcDa, dansDa)), EPS);
    return [and(on, going), sel(on, r, r0), sel(on, c, c0), sel(on, ans, ans0), sel(on, dcDa, dcDa0), sel(on, dansDa, dansDa0)];
  }, init);
  if (mode === 'value') return div(mul(ans, ax), a);
  const dlogaxDa = sub(log(x), ilax.unary(Op.Digamma, add(a, 1)));
  if (mode === 'derivative') return div(mul(ax, add(mul(ans, dlogaxDa), dansDa)), a);
  return div(mul(ilax.unary(Op.Negate, add(dansDa, mul(ans, dlogaxDa))), x), a);
}

/** JAX's `_igammac_continued_fraction`: Q(a, x) (or its derivatives), for x > max(1, a); at most 2000 terms. */
function continuedFraction(ax: KArray, x: KArray, a: KArray, enabled: KArray, mode: Mode): KArray {
  const y0 = sub(1, a);
  const z0 = add(add(x, y0), 1);
  const pkm1 = add(x, 1), qkm1 = mul(z0, x);
  const ans0 = div(pkm1, qkm1);
  const dqkm1Da = ilax.unary(Op.Negate, x);
  const dans0 = div(sub(full(x, 0), mul(ans0, dqkm1Da)), qkm1);
  // (enabled, ans, t, y, z, c, pkm1, qkm1, pkm2, qkm2, dpkm2_da, dqkm2_da, dpkm1_da, dqkm1_da, dans_da)
  type S = KArray[];
  const init: S = [enabled, ans0, full(x, 1), y0, z0, ilax.constant(x.dtype, [], 0), pkm1, qkm1, full(x, 1), x, full(x, 0), full(x, 0), full(x, 0), dqkm1Da, dans0];
  const out = whileLoop((s: S) => and(lt(s[5], 2000), any(s[0])), (s: S): S => {
    const [on, ans0, , y0, z0, c0, pkm1, qkm1, pkm2, qkm2, dpkm2Da, dqkm2Da, dpkm1Da, dqkm1Da, dansDa] = s;
    const c = add(c0, 1);
    const cb = ilax.broadcastInDim(c, x.shape, []);
    const y = add(y0, 1), z = add(z0, 2);
    const yc = mul(y, cb);
    const pk = sub(mul(pkm1, z), mul(pkm2, yc));
    const qk = sub(mul(qkm1, z), mul(qkm2, yc));
    const qkNonzero = ne(qk, 0);
    const r = div(pk, qk);
    const t = sel(qkNonzero, abs(div(sub(ans0, r), r)), full(r, 1));
    const ans = sel(qkNonzero, r, ans0);
    const dpkDa = add(sub(sub(mul(dpkm1Da, z), pkm1), mul(dpkm2Da, yc)), mul(pkm2, cb));
    const dqkDa = add(sub(sub(mul(dqkm1Da, z), qkm1), mul(dqkm2Da, yc)), mul(qkm2, cb));
    const dansNew = sel(qkNonzero, div(sub(dpkDa, mul(ans, dqkDa)), qk), dansDa);
    const gradCond = sel(qkNonzero, abs(sub(dansNew, dansDa)), full(dansDa, 1));
    // Rescale when the numerators grow past 1/eps, as XLA does, so they stay finite.
    const rescale = gt(abs(pk), 1 / EPS);
    const sc = (v: KArray) => sel(rescale, mul(v, EPS), v);
    const going = mode === 'value' ? gt(t, EPS) : gt(gradCond, EPS);
    const keep = (n: KArray, o: KArray) => sel(on, n, o);
    return [
      and(on, going), keep(ans, ans0), keep(t, s[2]), keep(y, y0), keep(z, z0), c,
      keep(sc(pk), pkm1), keep(sc(qk), qkm1), keep(sc(pkm1), pkm2), keep(sc(qkm1), qkm2),
      keep(sc(dpkm1Da), dpkm2Da), keep(sc(dqkm1Da), dqkm2Da), keep(sc(dpkDa), dpkm1Da), keep(sc(dqkDa), dqkm1Da), keep(dansNew, dansDa),
    ];
  }, init);
  const ans = out[1];
  if (mode === 'value') return mul(ans, ax);
  const dansDa = out[14];
  const dlogaxDa = sub(log(x), ilax.unary(Op.Digamma, a));
  if (mode === 'derivative') return mul(ax, add(mul(ans, dlogaxDa), dansDa));
  return mul(ilax.unary(Op.Negate, add(dansDa, mul(ans, dlogaxDa))), x);
}

/** log(x^a e^-x / Gamma(a)), and whether exp of it underflows. */
function logAx(a: KArray, x: KArray): [KArray, KArray] {
  const ax = sub(sub(mul(a, log(x)), x), ilax.unary(Op.Lgamma, a));
  return [ax, lt(ax, -LOG_MAX)];
}

function domain(a: KArray, x: KArray): { domainError: KArray; aInf: KArray; xInf: KArray; aZero: KArray; xZero: KArray } {
  const xInf = eq(x, Infinity), aInf = eq(a, Infinity), aZero = eq(a, 0), xZero = eq(x, 0);
  const domainError = [lt(x, 0), lt(a, 0), and(aZero, xZero), and(aInf, xInf), or(isnan(a), isnan(x))].reduce(or);
  return { domainError, aInf, xInf, aZero, xZero };
}

/** JAX's `igamma_impl`: the regularized lower incomplete gamma function P(a, x). */
export function igammaImpl(a: KArray, x: KArray): KArray {
  const { domainError, aInf, xInf, xZero } = domain(a, x);
  const useC = and(ge(x, 1), gt(x, a));
  const [l, underflow] = logAx(a, x);
  const ax = exp(l);
  const enabled = not([xZero, domainError, underflow, xInf, aInf].reduce(or));
  let out = sel(useC, sub(1, continuedFraction(ax, x, a, and(enabled, useC), 'value')), series(ax, x, a, and(enabled, not(useC)), 'value'));
  out = sel(aInf, full(a, 0), out);
  out = sel(xZero, full(a, 0), out);
  out = sel(xInf, full(a, 1), out);
  return sel(domainError, full(a, NaN), out);
}

/** JAX's `igammac_impl`: the regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x). */
export function igammacImpl(a: KArray, x: KArray): KArray {
  const { domainError, aInf, xInf, aZero } = domain(a, x);
  const useP = or(lt(x, 1), lt(x, a));
  const [l, underflow] = logAx(a, x);
  const enabled = not([domainError, underflow, xInf, aZero, aInf].reduce(or));
  const ax = exp(l);
  let out = sel(useP, sub(1, series(ax, x, a, and(enabled, useP), 'value')), continuedFraction(ax, x, a, and(enabled, not(useP)), 'value'));
  out = sel(aInf, full(a, 1), out);
  out = sel(or(xInf, aZero), full(a, 0), out);
  return sel(domainError, full(a, NaN), out);
}

/** dP(a, x)/da (mode 'derivative') or the sample derivative (mode 'sampleDerivative'), as JAX's `igamma_grad_a_impl` / `random_gamma_grad_impl`. */
function gradA(a: KArray, x: KArray, mode: Mode): KArray {
  const nan = or(isnan(a), isnan(x));
  const xZero = eq(x, 0);
  const domainError = or(lt(x, 0), le(a, 0));
  const useC = and(gt(x, 1), gt(x, a));
  const [l, underflow] = logAx(a, x);
  const ax = exp(l);
  const enabled = not([xZero, domainError, underflow, nan].reduce(or));
  let out = sel(useC, ilax.unary(Op.Negate, continuedFraction(ax, x, a, and(enabled, useC), mode)), series(ax, x, a, and(enabled, not(useC)), mode));
  out = sel(xZero, full(out, 0), out);
  return sel(or(domainError, nan), full(a, NaN), out);
}

/** JAX's `random_gamma_grad`: d(sample)/d(alpha) of a Gamma(alpha, 1) sample, elementwise. */
export function randomGammaGradImpl(a: KArray, sample: KArray): KArray {
  return gradA(a, sample, 'sampleDerivative');
}

/** JAX's `igamma_gradx`: dP(a, x)/dx = x^(a-1) e^-x / Gamma(a). */
function igammaGradX(a: KArray, x: KArray): KArray {
  return exp(add(ilax.unary(Op.Negate, x), sub(mul(sub(a, 1), log(x)), ilax.unary(Op.Lgamma, a))));
}

/** P(a, x) with JAX's JVP: t_a * dP/da + t_x * dP/dx (igammac: the negation). */
const igammaJvp = customJvp((a: KArray, x: KArray) => igammaImpl(a, x)).defjvp(([a, x], [ta, tx]) =>
  [igammaImpl(a, x), add(mul(ta, gradA(a, x, 'derivative')), mul(tx, igammaGradX(a, x)))]);
const igammacJvp = customJvp((a: KArray, x: KArray) => igammacImpl(a, x)).defjvp(([a, x], [ta, tx]) =>
  [igammacImpl(a, x), ilax.unary(Op.Negate, add(mul(ta, gradA(a, x, 'derivative')), mul(tx, igammaGradX(a, x))))]);

/** The operands of the igamma family: float Arrays of one dtype and shape (lax does not broadcast). */
function floats(name: string, a: Operand, x: Operand): [KArray, KArray] {
  const [u, v] = same(name, a, x);
  if (u.dtype !== 'f32') throw traceError(`lax.${name} needs f32 operands, got ${u.describe()} and ${v.describe()}`);
  return [u, v];
}

/** The regularized lower incomplete gamma function P(a, x) (NaN outside a >= 0, x >= 0); differentiable in both. */
export const igamma = defapi('lax.igamma', [p('a', A.array), p('x', A.array)], (a: Operand, x: Operand): KArray =>
  igammaJvp(...floats('igamma', a, x)) as KArray) as (a: Operand, x: Operand) => KArray;

/** The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x); differentiable in both. */
export const igammac = defapi('lax.igammac', [p('a', A.array), p('x', A.array)], (a: Operand, x: Operand): KArray =>
  igammacJvp(...floats('igammac', a, x)) as KArray) as (a: Operand, x: Operand) => KArray;

/** dP(a, x)/da, elementwise (NaN for a <= 0 or x < 0). */
export const igammaGradA = defapi('lax.igammaGradA', [p('a', A.array), p('x', A.array)], (a: Operand, x: Operand): KArray =>
  gradA(...floats('igammaGradA', a, x), 'derivative')) as (a: Operand, x: Operand) => KArray;

/** The derivative of a Gamma(a, 1) sample `x` w.r.t. `a` (implicit reparameterization), elementwise. */
export const randomGammaGrad = defapi('lax.randomGammaGrad', [p('a', A.array), p('x', A.array)], (a: Operand, x: Operand): KArray =>
  randomGammaGradImpl(...floats('randomGammaGrad', a, x))) as (a: Operand, x: Operand) => KArray;
