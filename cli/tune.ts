/**
 * @file `kiln tune`: time the matmul tile candidates of every dot_general of a module on this
 * adapter (runtime/webgpu/tuning.ts), store the fastest in the tuning cache, and print a table
 * per shape class: each candidate, its GPU time, and which was chosen and which the static
 * heuristic picks.
 */
import type { Module } from '../ir/types.js';
import { shapeClass, type AnyTile, type TuneResult } from '../runtime/webgpu/tuning.js';

export interface TuneCommandOptions {
  json: boolean;
  /** Time classes the cache already has again (else their cached table is printed). */
  force: boolean;
}

/** A tile in a few characters: `128x128x8 r8x8` (plain) or `2x2 sg of 4x4, bk32` (tensor cores). */
export function tileLabel(t: AnyTile | null): string {
  if (t === null) return 'fallback (heuristic)';
  if ('rm' in t) return `${t.bm}x${t.bn}x${t.bk} r${t.rm}x${t.rn}`;
  return `${t.wm}x${t.wn} sg of ${t.tm}x${t.tn}, bk${t.bk}${t.staged ? '' : ' unstaged'}`;
}

/** The printed table of one class. */
export function formatTuneResult(r: TuneResult): string {
  const p = r.problem;
  const lines = [`${shapeClass(p)}  (timed on ${r.entry.timedOn || `${p.batch}x${p.m}x${p.n}x${p.k}`}${r.cached ? ', from the cache' : ''})`];
  r.entry.candidates.forEach((c, i) => {
    const ms = c.ms === null ? '   (only one)' : `${c.ms.toFixed(4).padStart(10)} ms`;
    const marks = [i === r.chosen ? 'chosen' : '', c.heuristic ? 'heuristic' : ''].filter(Boolean).join(', ');
    lines.push(`  ${tileLabel(c.tile).padEnd(28)} ${ms}${marks ? `  <- ${marks}` : ''}`);
  });
  return lines.join('\n');
}

export async function tuneCommand(m: Module, opts: TuneCommandOptions): Promise<number> {
  const { createWebGPUDevice } = await import('../runtime/webgpu/device.js');
  const d = await createWebGPUDevice();
  try {
    const results = await d.tune(m, opts.force);
    if (opts.json) {
      process.stdout.write(JSON.stringify({
        adapter: d.info().adapter, cache: d.tuner.path ?? null,
        classes: results.map((r) => ({ class: shapeClass(r.problem), problem: r.problem, cached: r.cached, chosen: r.chosen, ...r.entry })),
      }, null, 2) + '\n');
    } else {
      process.stdout.write(`${d.info().adapter}\ncache: ${d.tuner.path ?? '(memory only)'}\n`);
      if (results.length === 0) process.stdout.write('no dot_general to tune\n');
      for (const r of results) process.stdout.write(`${formatTuneResult(r)}\n`);
    }
  } finally {
    d.destroy();
  }
  return 0;
}
