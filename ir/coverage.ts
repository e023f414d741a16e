/**
 * @file What kiln does with each StableHLO / CHLO / Shardy operation and custom call JAX prints:
 * supported (every op of the {@link Op} table, on the reference interpreter and WebGPU), identity
 * (sharding annotations, which the parser removes on a one-device mesh) or refused (with the error
 * that names it). README's coverage table is generated from this file by {@link coverageMarkdown},
 * and a test checks that README holds exactly that text, so the table cannot drift from the code.
 */
import {
  ALL_OPS, BinaryElementwise, Contraction, ControlFlow, DataMovement, Int64Ops, Op, Reduction,
  UnaryElementwise,
} from './ops.js';

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
  { name: 'stablehlo.custom_call @<target>', why: 'any target but the sharding ones above: refused naming the target (LAPACK `lapack_*_ffi`, cuSOLVER `cusolver_*_ffi`, ...); its attribute dictionaries parse' },
  { name: 'stablehlo.rng_bit_generator', why: 'not implemented (the jax.random threefry programs run: they are plain integer ops)' },
  { name: 'stablehlo.triangular_solve', why: 'not implemented (the GPU lowering of `solve_triangular`)' },
  { name: 'stablehlo.fft', why: 'complex element types (`complex<f32>`) are refused by the type parser' },
  { name: 'chlo.scan', why: 'not implemented (the GPU lowering of an associative cumsum; the CPU lowering is a reduce_window and runs)' },
  { name: 'collectives over more than one device', why: 'refused naming the op and its replica groups (or the module\'s replica/partition count)' },
  { name: 'sdy.manual_computation', why: 'not implemented (JAX inlines shard_map on a one-device mesh, which runs)' },
  { name: 'sdy.mesh with more than one device', why: 'refused with its axes and device count: kiln runs on one device' },
  { name: 'bf16, f64 element types', why: 'parse, then refused by the verifier: WebGPU has neither' },
  { name: 'dynamic dimensions (`tensor<?x4xf32>`)', why: 'refused by the type parser' },
];

function family(op: Op): string {
  if (UnaryElementwise.has(op)) return 'elementwise unary';
  if (BinaryElementwise.has(op)) return 'elementwise binary';
  if (DataMovement.has(op)) return 'data movement';
  if (Reduction.has(op)) return 'reduction';
  if (Contraction.has(op)) return 'contraction';
  if (ControlFlow.has(op)) return 'control flow';
  if (op === Op.Return || op === Op.FuncReturn) return 'terminator';
  return 'other';
}

/** README's coverage table, as markdown (the text between its coverage markers). */
export function coverageMarkdown(): string {
  const groups = new Map<string, Op[]>();
  for (const op of ALL_OPS) {
    const f = family(op);
    groups.set(f, [...(groups.get(f) ?? []), op]);
  }
  const name = (op: Op) => `\`${op}\`${Int64Ops.has(op) ? '\\*' : ''}`;
  const lines = [
    '| status | operations |',
    '| --- | --- |',
    ...[...groups].map(([f, ops]) => `| supported: ${f} | ${ops.map(name).join(', ')} |`),
    `| identity on one device | ${[...IDENTITY_OPS].map((o) => `\`${o}\``).join(', ')}, ${[...IDENTITY_CALLS].map((c) => `\`stablehlo.custom_call @${c}\``).join(', ')}, \`sdy.mesh\` of one device, \`sdy.sharding\` / \`mhlo.sharding\` attributes |`,
    `| identity on one device: collectives | ${[...ONE_DEVICE_COLLECTIVES].map((o) => `\`${o}\``).join(', ')} (one replica, one partition, groups \`[[0]]\`); \`stablehlo.replica_id\`, \`stablehlo.partition_id\`: the constant 0 |`,
    '| run as its decomposition | `stablehlo.composite` (a call of its `decomposition` function) |',
    ...REFUSED.map((r) => `| refused: ${r.name.replace(/\|/g, '\\|')} | ${r.why} |`),
  ];
  return `${lines.join('\n')}\n\n\\* also on i64/ui64 (emulated as two u32 words; see Element types).\n`;
}
