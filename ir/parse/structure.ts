/**
 * @file How many operands, results and region arguments each op has, checked as the parser builds
 * it. MLIR's own parser refuses `stablehlo.select %a, %b : ...` because the op's assembly format
 * names three operands; kiln reads both pretty and generic forms, so it checks the counts here.
 * This keeps every module the parser returns printable: the printer's pretty forms (and the
 * passes after the verifier) may rely on these counts. Types and shapes stay the verifier's job.
 */
import { ParseError, type Location } from '../errors.js';
import { BinaryElementwise, Op, UnaryElementwise } from '../ops.js';
import type { Operation } from '../types.js';

/** An exact count, at least `min` (`step` apart, from `min`), or anything. */
type Count = number | { min: number; step?: number } | 'any';

interface Shape {
  operands: Count;
  /** Results: a count, or a function of the operand count (while: one result per operand). */
  results: Count | ((operands: number) => number);
}

const one: Shape = { operands: 1, results: 1 };
const sameAsOperands = (n: number) => n;

/** The counts of ops that are not plain elementwise (those take 1 or 2 operands and give 1 result). */
const SHAPES: Partial<Record<Op, Shape>> = {
  [Op.Select]: { operands: 3, results: 1 },
  [Op.Clamp]: { operands: 3, results: 1 },
  [Op.Convert]: one, [Op.BitcastConvert]: one, [Op.ReducePrecision]: one, [Op.Reshape]: one,
  [Op.BroadcastInDim]: one, [Op.Transpose]: one, [Op.Slice]: one, [Op.Reverse]: one,
  [Op.Constant]: { operands: 0, results: 1 },
  [Op.Iota]: { operands: 0, results: 1 },
  [Op.DynamicSlice]: { operands: { min: 1 }, results: 1 },
  [Op.DynamicUpdateSlice]: { operands: { min: 2 }, results: 1 },
  [Op.Concatenate]: { operands: { min: 1 }, results: 1 },
  [Op.Pad]: { operands: 2, results: 1 },
  [Op.Gather]: { operands: 2, results: 1 },
  [Op.Scatter]: { operands: { min: 3, step: 2 }, results: (n) => (n - 1) / 2 },
  [Op.Reduce]: { operands: { min: 2, step: 2 }, results: (n) => n / 2 },
  [Op.ReduceWindow]: { operands: { min: 2, step: 2 }, results: (n) => n / 2 },
  [Op.SelectAndScatter]: { operands: 3, results: 1 },
  [Op.DotGeneral]: { operands: 2, results: 1 },
  [Op.Convolution]: { operands: 2, results: 1 },
  [Op.Sort]: { operands: { min: 1 }, results: sameAsOperands },
  [Op.TopK]: { operands: 1, results: 2 },
  [Op.Scan]: { operands: { min: 1 }, results: 'any' },
  [Op.Cholesky]: one,
  [Op.TriangularSolve]: { operands: 2, results: 1 },
  // Per target (ir/custom-calls.ts); the verifier checks them against the target's kind.
  [Op.CustomCall]: { operands: 'any', results: 'any' },
  [Op.Fft]: one,
  [Op.RngBitGenerator]: { operands: 1, results: 2 },
  [Op.BatchNormTraining]: { operands: 3, results: 3 },
  [Op.BatchNormInference]: { operands: 5, results: 1 },
  [Op.BatchNormGrad]: { operands: 5, results: 3 },
  [Op.While]: { operands: 'any', results: sameAsOperands },
  [Op.If]: { operands: 1, results: 'any' },
  [Op.Case]: { operands: 1, results: 'any' },
  [Op.Call]: { operands: 'any', results: 'any' },
  [Op.Return]: { operands: 'any', results: 0 },
  [Op.FuncReturn]: { operands: 'any', results: 0 },
  [Op.OptimizationBarrier]: { operands: 'any', results: sameAsOperands },
};

function shapeOf(op: Op): Shape {
  if (UnaryElementwise.has(op)) return one;
  if (BinaryElementwise.has(op)) return { operands: 2, results: 1 };
  const s = SHAPES[op];
  if (!s) throw new Error(`structure: no operand counts for ${op}`);
  return s;
}

function fits(c: Count, n: number): boolean {
  if (c === 'any') return true;
  if (typeof c === 'number') return n === c;
  return n >= c.min && (n - c.min) % (c.step ?? 1) === 0;
}

function describe(c: Count): string {
  if (c === 'any') return 'any number of';
  if (typeof c === 'number') return String(c);
  return c.step ? `${c.min}, ${c.min + c.step}, ${c.min + 2 * c.step}, ...` : `at least ${c.min}`;
}

const plural = (n: number | string, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * Refuses an op whose operand, result or region-argument counts its form cannot have, naming the
 * op and its location: `stablehlo.select takes 3 operands, got 2`.
 */
export function checkStructure(o: Operation, loc: Location): void {
  const s = shapeOf(o.op);
  const n = o.operands.length;
  if (!fits(s.operands, n)) throw new ParseError(`${o.op} takes ${plural(describe(s.operands), 'operand')}, got ${n}`, loc);
  const want = typeof s.results === 'function' ? s.results(n) : s.results;
  if (!fits(want, o.results.length)) {
    throw new ParseError(`${o.op} with ${plural(n, 'operand')} has ${plural(describe(want), 'result')}, got ${o.results.length}`, loc);
  }
  // Loop-carried and reduced values are block arguments: one per operand.
  const perOperand = o.op === Op.While || o.op === Op.Reduce || o.op === Op.Sort ? (o.op === Op.Sort ? 2 * n : n) : undefined;
  if (perOperand !== undefined) {
    o.regions.forEach((r, i) => {
      if (r.block.args.length !== perOperand) {
        throw new ParseError(`${o.op}: region #${i} takes ${plural(r.block.args.length, 'argument')}, expected ${perOperand}`, loc);
      }
    });
  }
}
