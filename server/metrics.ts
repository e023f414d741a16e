/**
 * @file Counters behind GET /metrics (Prometheus text format) and the dashboard: requests by route
 * and status, compiles and cache hits, executions and their time, and the recent errors.
 */
import type { HttpError } from './errors.js';

export interface RecentError {
  at: number;
  method: string;
  url: string;
  code: string;
  message: string;
}

/** Requests and GPU time per second over the last minute, for the dashboard's live chart. */
export interface SecondSample {
  t: number;
  requests: number;
  gpuMs: number;
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  readonly recentErrors: RecentError[] = [];
  readonly seconds: SecondSample[] = [];
  executions = 0;
  executionMs = 0;
  readonly startedAt = Date.now();

  request(route: string, status: number, _ms: number): void {
    const key = `${route}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    this.sample().requests++;
  }

  execution(ms: number): void {
    this.executions++;
    this.executionMs += ms;
    this.sample().gpuMs += ms;
  }

  error(method: string, url: string, e: HttpError): void {
    this.recentErrors.push({ at: Date.now(), method, url, code: e.code, message: e.message });
    if (this.recentErrors.length > 50) this.recentErrors.shift();
  }

  private sample(): SecondSample {
    const t = Math.floor(Date.now() / 1000);
    let last = this.seconds[this.seconds.length - 1];
    if (!last || last.t !== t) {
      last = { t, requests: 0, gpuMs: 0 };
      this.seconds.push(last);
      if (this.seconds.length > 60) this.seconds.shift();
    }
    return last;
  }

  /** Prometheus text exposition format. */
  render(gauges: Record<string, [help: string, value: number]>, counters: Record<string, [help: string, value: number]>): string {
    const out: string[] = [];
    out.push('# HELP kiln_requests_total HTTP requests by route and status.', '# TYPE kiln_requests_total counter');
    for (const [key, n] of this.requests) {
      const [route, status] = key.split('\u0000');
      out.push(`kiln_requests_total{route="${route.replace(/["\\]/g, '\\$&')}",status="${status}"} ${n}`);
    }
    const all: Record<string, [string, number, 'counter' | 'gauge']> = {
      kiln_executions_total: ['Program executions.', this.executions, 'counter'],
      kiln_execution_seconds_total: ['Wall time spent executing programs.', this.executionMs / 1000, 'counter'],
      kiln_errors_total: ['Error replies since start (the last 50 are on the dashboard).', this.errorCount(), 'counter'],
      kiln_uptime_seconds: ['Seconds since the server started.', (Date.now() - this.startedAt) / 1000, 'gauge'],
    };
    for (const [k, [h, v]] of Object.entries(counters)) all[k] = [h, v, 'counter'];
    for (const [k, [h, v]] of Object.entries(gauges)) all[k] = [h, v, 'gauge'];
    for (const [name, [help, value, type]] of Object.entries(all)) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    }
    return out.join('\n') + '\n';
  }

  private errorCount(): number {
    let n = 0;
    for (const [key, c] of this.requests) if (Number(key.split('\u0000')[1]) >= 400) n += c;
    return n;
  }
}
