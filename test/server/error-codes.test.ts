/**
 * @file The server's error table (server/errors.ts) against the README's: every code the server
 * can answer with is documented there with the same status, and the README names no code the
 * server does not have.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../server/errors.js';

/** The README's error table: `| KILN_ERR_A, KILN_ERR_B | 500 | meaning |` rows, code by code. */
function readmeCodes(): Map<string, number> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const codes = new Map<string, number>();
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (!line.startsWith('| KILN_ERR_') || cells.length < 4) continue;
    for (const code of cells[1].split(',').map((c) => c.trim())) {
      expect(codes.has(code), `${code} is listed twice in README.md`).toBe(false);
      codes.set(code, Number(cells[2]));
    }
  }
  return codes;
}

describe('error codes', () => {
  it('are documented in README.md with their status, and README.md names only real ones', () => {
    const readme = readmeCodes();
    const table = Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]);
    expect(readme.size).toBeGreaterThan(0);
    expect([...readme.entries()].sort()).toEqual(table.sort());
  });

  it('each carry a sentence of documentation and a 4xx or 5xx status', () => {
    for (const [code, { status, doc }] of Object.entries(ERROR_CODES)) {
      expect(doc.length, code).toBeGreaterThan(10);
      expect(status >= 400 && status < 600, code).toBe(true);
    }
  });
});
