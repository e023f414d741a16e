/**
 * @file The soak/load script (scripts/soak.ts) run small: `kiln serve` on lavapipe behind 8
 * concurrent clients for 100 warm-up and 200 measured requests of every kind, each result checked bit for bit against the
 * reference interpreter, the server's RSS flat after warm-up, and every abandoned session expired
 * with nothing of it left on the server. The full run (64 clients, 10,000 requests after 10,000 of warm-up) is
 * `npm run soak`; its figures are in README.md (Server).
 */
import { describe, expect, it } from 'vitest';
import { soak } from '../../scripts/soak.js';

describe('soak', () => {
  it('8 clients x (100 + 200) requests: bit-exact results, flat RSS, expired sessions leave nothing', async () => {
    const lines: string[] = [];
    const r = await soak({ clients: 8, requests: 200, warmup: 100, timeLimitS: 15, sessionTtlS: 2, device: 'webgpu', log: (l) => lines.push(l) });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.requests).toBe(300);
    for (const k of ['session', 'compile', 'run', 'upload', 'execute', 'fetch'] as const) expect(r.perKind[k].n).toBeGreaterThan(0);
    expect(r.sessions.abandoned).toBeGreaterThan(0);
    expect(r.sessions.expiredMetric).toBe(r.sessions.abandoned);
    expect(r.leftAfterExpiry).toEqual({ sessions: 0, buffers: 0, residentBytes: 0 });
    expect(r.table).toMatch(/soak: ok/);
  }, 60_000);
});
