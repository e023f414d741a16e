/**
 * @file Newton's method with `lax.whileLoop` inside `jit`: the real cube root of every element of
 * `a`, as the root of f(x) = x^3 - a, with f' taken by `grad` inside the loop body. The loop runs
 * until every element's residual is below a tolerance (or an iteration cap), all on the device in
 * one executable; the answer is checked against `Math.cbrt`.
 *
 *   npm run example:newton
 *   KILN_DEVICE=reference npm run example:newton
 */
import { pathToFileURL } from 'node:url';
import { getDefaultDevice, grad, jit, lax, np, ready, type Array } from '../client/index.js';

/** Stop when |x^3 - a| <= TOL * max(1, |a|) for every element, or after MAX_ITERATIONS steps. */
export const TOL = 1e-6, MAX_ITERATIONS = 60;

const residual = (x: Array, a: Array) => np.subtract(np.power(x, 3), a);

/**
 * Cube roots of `a` (non-zero elements; x = a is the start, from which Newton's iteration on
 * x^3 - a converges for either sign). Returns the roots and the number of iterations taken.
 */
export const cubeRoots = jit((a: Array) => {
  // f is elementwise, so the gradient of sum(f) is f' at each element.
  const slope = (x: Array) => grad((y: Array) => np.sum(residual(y, a)))(x) as Array;
  const scale = np.maximum(np.abs(a), 1);
  const notDone = ([x, i]: [Array, Array]) =>
    np.logicalAnd(np.less(i, MAX_ITERATIONS), np.greater(np.max(np.divide(np.abs(residual(x, a)), scale)), TOL));
  const step = ([x, i]: [Array, Array]): [Array, Array] => [np.subtract(x, np.divide(residual(x, a), slope(x))), np.add(i, 1)];
  const [x, iterations] = lax.whileLoop(notDone, step, [a, np.array(0, { dtype: 'i32' })]);
  return { x, iterations };
});

export interface SolveResult {
  a: number[];
  x: number[];
  iterations: number;
  /** The largest |x - cbrt(a)| / max(1, |cbrt(a)|). */
  maxError: number;
}

/** Solves for the given values and compares with `Math.cbrt`. */
export async function solve(values: readonly number[]): Promise<SolveResult> {
  const out = cubeRoots(np.array([...values])) as { x: Array; iterations: Array };
  const x = globalThis.Array.from(await out.x.data());
  const iterations = await out.iterations.item();
  const maxError = Math.max(...values.map((a, i) => Math.abs(x[i] - Math.cbrt(a)) / Math.max(1, Math.abs(Math.cbrt(a)))));
  return { a: [...values], x, iterations, maxError };
}

async function main(): Promise<void> {
  const device = await ready();
  console.log(`kiln Newton solver (lax.whileLoop in jit) on ${(await getDefaultDevice()).info().adapter} (${device.kind})`);
  const values = [27, -8, 0.001, 2, 1e6, -123.456, 0.5, 1];
  const r = await solve(values);
  r.a.forEach((a, i) => console.log(`cbrt(${a}) = ${r.x[i].toPrecision(8)}  (Math.cbrt: ${Math.cbrt(a).toPrecision(8)})`));
  console.log(`${r.iterations} iterations, largest relative error ${r.maxError.toExponential(2)}`);
  if (!(r.maxError < 1e-5) || r.iterations >= MAX_ITERATIONS) {
    console.error('Newton did not converge to the closed form');
    process.exitCode = 1;
  }
}

// Run when executed (node dist/examples/newton.js), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
