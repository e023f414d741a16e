/**
 * @file README's coverage table is exactly what `coverageMarkdown()` generates from the op table,
 * and what it calls refused is refused: no refused name is in the op table, and a module using each
 * refused op fails to parse with an UnsupportedOpError naming it and its line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coverageMarkdown, REFUSED } from '../../ir/coverage.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { opFromName } from '../../ir/ops.js';
import { parseModule } from '../../ir/parse/parser.js';

/** The op names a refused row lists: `stablehlo.all_reduce, all_gather` names both in stablehlo. */
function refusedOps(): string[] {
  const out: string[] = [];
  for (const r of REFUSED) {
    const m = /^(stablehlo|chlo|sdy)\.(\w+(?:, \w+)*)$/.exec(r.name);
    if (m) for (const n of m[2].split(',')) out.push(`${m[1]}.${n.trim()}`);
  }
  return out;
}

describe('coverage table', () => {
  it('README holds exactly the generated table', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const m = /<!-- coverage:begin -->\n([\s\S]*?)<!-- coverage:end -->/.exec(readme);
    expect(m, 'README has coverage markers').not.toBeNull();
    expect(m![1]).toBe(coverageMarkdown());
  });

  it('no refused op is in the op table, and each is refused by name at its line', () => {
    const ops = refusedOps();
    expect(ops).toContain('sdy.manual_computation');
    for (const name of ops) {
      expect(opFromName(name), name).toBeUndefined();
      const text = `module @m {\n  func.func public @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {\n    %0 = ${name} %arg0 : tensor<4xf32>\n    return %0 : tensor<4xf32>\n  }\n}\n`;
      let err: unknown;
      try { parseModule(text, 'm.mlir'); } catch (e) { err = e; }
      expect(err, name).toBeInstanceOf(UnsupportedOpError);
      expect((err as Error).message).toBe(`m.mlir:3:10: unsupported op ${name}`);
    }
  });
});
