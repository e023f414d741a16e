/**
 * @file What kiln does with each StableHLO / CHLO / Shardy operation and custom call JAX prints:
 * supported (every op of the {@link Op} table, on the reference interpreter and WebGPU), identity
 * (sharding annotations, which the parser removes on a one-device mesh) or refused (with the error
 * that names it). README's coverage table is generated from this file by {@link coverageMarkdown},
 * and a test checks that README holds exactly that text, so the table cannot drift from the code.
 */
import {
  ALL_OPS, BinaryElementwise, ComplexOps, Contraction, ControlFlow, DataMovement, Int64Ops, LinearAlgebra, Op, Reduction,
  UnaryElementwise,
} from './ops.js';
import { CUSTOM_CALLS } from './custom-calls.js';

/** Shardy ops that only annotate a value's sharding: identities on one device (removed by the parser). */
export const IDENTITY_OPS: ReadonlySet<string> = new Set(['sdy.sharding_constraint', 'sdy.reshard']);
/** GSPMD custom-call targets that only annotate or re-view a value's sharding: identities on one device. */
export const IDENTITY_CALLS: ReadonlySet<string> = new Set(['Sharding', 'SPMDFullToShardShape', 'SPMDShardToFullShape']);

/**
 * Collectives that are identities on one device (one replica, one partition, every replica group
 * `{0}`, `collective_permute` sending 0 to 0): each result is its operand. Any other device
 * layout is refused with the groups it names.
 */
export const ONE_DEVICE_COLLECTIVES: ReadonlySet<string> = new Set([
  'stablehlo.all_reduce', 'stablehlo.all_gather', 'stablehlo.reduce_scatter', 'stablehlo.collective_permute', 'stablehlo.all_to_all',
]);

/**
 * Operations and constructs JAX can print that kiln refuses, each with the reason the error gives.
 * None of these names is in the {@link Op} table (a test checks it).
 */
export const REFUSED: readonly { name: string; why: string }[] = [
  { name: 'stablehlo.custom_call @<target>', why: 'any target but the sharding ones above and the linear-algebra ones below: refused naming the target (its attribute dictionaries parse)' },
  { name: 'collectives over more than one device', why: 'refused naming the op and its replica groups (or the module\'s replica/partition count)' },
  { name: 'sdy.manual_computation', why: 'not implemented (JAX inlines shard_map on a one-device mesh, which runs)' },
  { name: 'sdy.mesh with more than one device', why: 'refused with its axes and device count: kiln runs on one device' },
  { name: 'f64 element types', why: 'refused by decision, not emulated: WebGPU has no 64-bit floats, and a two-f32 emulation would be slow and not IEEE-exact in its transcendentals (a wrong f64 answer is worse than an error); the verifier names the value; run JAX with `jax_enable_x64` off' },
  { name: 'complex<f64> element types', why: 'parse, then refused by the verifier: WebGPU has no 64-bit floats (run JAX with x64 off so it emits complex<f32>)' },
  { name: 'complex<f32> in ops without a complex meaning', why: 'max, min, floor, remainder, atan2, sort, ordered compare (LT, ...), ...: refused by the verifier naming the op and type, as XLA refuses them' },
  { name: 'dynamic shapes (`tensor<?x4xf32>`, dynamic_broadcast_in_dim, dynamic_reshape, get_dimension_size, set_dimension_size, real_dynamic_slice, dynamic_pad, dynamic_iota, dynamic_conv, dynamic_gather)', why: 'refused by the parser at the type or op, saying dynamic shapes are not supported' },
];

/** Structural ops that carry any value: not marked in the table. */
const ALWAYS_COMPLEX_AWARE = new Set<Op>([Op.Call, Op.Return, Op.FuncReturn, Op.OptimizationBarrier, Op.While, Op.If, Op.Case]);
/** Where complex<f32> runs, as the coverage footnote says it. */
const COMPLEX_STATUS = 'a `vec2<f32>` on WebGPU; complex `dot_general` and sums run as real ones, other complex reductions are refused on WebGPU';

function family(op: Op): string {
  if (UnaryElementwise.has(op)) return 'elementwise unary';
  if (BinaryElementwise.has(op)) return 'elementwise binary';
  if (DataMovement.has(op)) return 'data movement';
  if (Reduction.has(op)) return 'reduction';
  if (Contraction.has(op)) return 'contraction';
  if (ControlFlow.has(op)) return 'control flow';
  if (LinearAlgebra.has(op)) return 'linear algebra';
  if (op === Op.Return || op === Op.FuncReturn) return 'terminator';
  return 'other';
}

/** The custom-call targets kiln runs (complex ones are refused, listed under refused). */
function linalgTargets(): string {
  return Object.entries(CUSTOM_CALLS).filter(([, r]) => !r.refused).map(([t]) => `\`@${t}\``).join(', ');
}

/** README's coverage table, as markdown (the text between its coverage markers). */
export function coverageMarkdown(): string {
  const groups = new Map<string, Op[]>();
  for (const op of ALL_OPS) {
    const f = family(op);
    groups.set(f, [...(groups.get(f) ?? []), op]);
  }
  const name = (op: Op) => `\`${op}\`${Int64Ops.has(op) ? '\\*' : ''}${ComplexOps.has(op) && !ALWAYS_COMPLEX_AWARE.has(op) ? '\u2020' : ''}`;
  const lines = [
    '| status | operations |',
    '| --- | --- |',
    ...[...groups].map(([f, ops]) => `| supported: ${f} | ${ops.map(name).join(', ')}${f === 'linear algebra' ? ` (targets ${linalgTargets()})` : ''} |`),
    `| identity on one device | ${[...IDENTITY_OPS].map((o) => `\`${o}\``).join(', ')}, ${[...IDENTITY_CALLS].map((c) => `\`stablehlo.custom_call @${c}\``).join(', ')}, \`sdy.mesh\` of one device, \`sdy.sharding\` / \`mhlo.sharding\` attributes |`,
    `| identity on one device: collectives | ${[...ONE_DEVICE_COLLECTIVES].map((o) => `\`${o}\``).join(', ')} (one replica, one partition, groups \`[[0]]\`); \`stablehlo.replica_id\`, \`stablehlo.partition_id\`: the constant 0 |`,
    '| run as its decomposition | `stablehlo.composite` (a call of its `decomposition` function) |',
    '| defined up to sign | eigenvectors (`syevd`) and singular vectors (`gesdd`, `gesvd`, `gesvdj`): each column matches LAPACK\'s or cuSOLVER\'s up to its sign (kiln makes a column\'s largest-magnitude entry positive); eigenvalues, singular values, QR (LAPACK\'s reflector signs) and the reconstructions match exactly |',
    ...REFUSED.map((r) => `| refused: ${r.name.replace(/\|/g, '\\|')} | ${r.why} |`),
  ];
  return `${lines.join('\n')}\n\n\\* also on i64/ui64 (emulated as two u32 words; see Element types).\n`
    + `\u2020 also on complex<f32> (${COMPLEX_STATUS}; see Element types).\n`;
}
