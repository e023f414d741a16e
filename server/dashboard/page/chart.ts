/**
 * @file The live chart: requests per second (bars, left axis) and GPU time per second (line,
 * right axis, in ms of device work per second of wall time) over the last minute, drawn as
 * inline SVG from the server's per-second samples. Seconds without a sample had no traffic.
 */

export interface Sample {
  t: number;
  requests: number;
  gpuMs: number;
}

const W = 640;
const H = 180;
const M = { left: 36, right: 44, top: 12, bottom: 22 };
const SECONDS = 60;

/** A round axis maximum at or above `v` (1, 2, 5 times a power of ten). */
export function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmt = (v: number) => (v >= 1000 ? `${v / 1000}k` : String(Number(v.toPrecision(3))));

/** The chart's SVG markup for the minute ending at `nowSeconds` (server clock, whole seconds). */
export function chartSvg(samples: readonly Sample[], nowSeconds: number): string {
  const bySecond = new Map(samples.map((s) => [s.t, s]));
  const series: Sample[] = [];
  for (let t = nowSeconds - SECONDS + 1; t <= nowSeconds; t++) series.push(bySecond.get(t) ?? { t, requests: 0, gpuMs: 0 });
  const rMax = niceMax(Math.max(...series.map((s) => s.requests)));
  const gMax = niceMax(Math.max(...series.map((s) => s.gpuMs)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (i: number) => M.left + (i / SECONDS) * pw;
  const yr = (v: number) => M.top + ph - (v / rMax) * ph;
  const yg = (v: number) => M.top + ph - (v / gMax) * ph;
  const bw = (pw / SECONDS) * 0.7;

  const out: string[] = [];
  out.push(`<svg viewBox="0 0 ${W} ${H}" class="chart" role="img" aria-label="requests and GPU time per second, last minute">`);
  for (let k = 0; k <= 4; k++) {
    const y = M.top + (ph * k) / 4;
    out.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}"/>`);
    out.push(`<text class="axis req" x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmt(rMax * (1 - k / 4))}</text>`);
    out.push(`<text class="axis gpu" x="${W - M.right + 6}" y="${y + 4}">${fmt(gMax * (1 - k / 4))}</text>`);
  }
  for (const [i, label] of [[0, '-60s'], [15, '-45s'], [30, '-30s'], [45, '-15s'], [59, 'now']] as const) {
    out.push(`<text class="axis" x="${x(i) + bw / 2}" y="${H - 6}" text-anchor="middle">${label}</text>`);
  }
  series.forEach((s, i) => {
    if (s.requests > 0) {
      const y = yr(s.requests);
      out.push(`<rect class="bar" x="${x(i).toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${(M.top + ph - y).toFixed(1)}"><title>${s.requests} requests</title></rect>`);
    }
  });
  const pts = series.map((s, i) => `${(x(i) + bw / 2).toFixed(1)},${yg(s.gpuMs).toFixed(1)}`);
  out.push(`<polygon class="area" points="${x(0) + bw / 2},${M.top + ph} ${pts.join(' ')} ${x(SECONDS - 1) + bw / 2},${M.top + ph}"/>`);
  out.push(`<polyline class="line" points="${pts.join(' ')}"/>`);
  out.push('</svg>');
  return out.join('');
}
