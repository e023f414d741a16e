/**
 * @file The numbers of the kernel timing table (drawn by `kernelTable` in views.ts, after a
 * profiled run in the playground and in an executable's detail): each kernel of the program in
 * program order with its dispatches, its GPU time and its share of the run. No DOM here, so the
 * arithmetic is tested under Node.
 */

/** What the rows are made of: a run's kernels as the server reports them (`ProfileJson` in api.ts). */
export interface KernelTimes {
  kernels: readonly { name: string; dispatches: number; ms: number }[];
}

/** One row of the table: a kernel's numbers and its share of the kernels' total GPU time (0..1). */
export interface KernelRow {
  index: number;
  name: string;
  dispatches: number;
  ms: number;
  share: number;
}

/**
 * The table's rows. Shares are of the kernels' summed time, not of the span, so they add up to
 * one: the span also holds the gaps between dispatches, which belong to no kernel.
 */
export function kernelRows(p: KernelTimes): KernelRow[] {
  const total = p.kernels.reduce((a, k) => a + k.ms, 0);
  return p.kernels.map((k, index) => ({ index, name: k.name, dispatches: k.dispatches, ms: k.ms, share: total > 0 ? k.ms / total : 0 }));
}

/** `12.3%`, with `<0.1%` for the tiny shares that would otherwise read as zero. */
export function formatShare(share: number): string {
  if (share > 0 && share < 0.001) return '<0.1%';
  return `${(share * 100).toFixed(1)}%`;
}
