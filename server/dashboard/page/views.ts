/**
 * @file The read-only panels of the dashboard, each rendered from what the server reports: the
 * device, the server's counters and limits, resident buffers, recent errors, and the cached
 * executables with their canonical IR and WGSL kernels.
 */
import { getJson, type ExecutableDetailJson, type ExecutableJson, type StateJson } from './api.js';
import { fill, formatBytes, formatClock, formatDuration, formatMs, formatNumber, formatType, h } from './dom.js';
import { highlight, type Lang } from './highlight.js';

/** Rows of a two-column key/value list. */
function facts(rows: [string, Node | string][]): HTMLElement {
  return h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** A code block with line numbers, highlighted. */
export function codeBlock(text: string, lang: Lang, cls = ''): HTMLElement {
  const pre = h('pre', { class: `code ${cls}` });
  const lines = highlight(text.replace(/\n$/, ''), lang).split('\n');
  pre.innerHTML = lines.map((l, i) => `<span class="ln">${i + 1}</span>${l}`).join('\n');
  return pre;
}

export function renderDevice(el: HTMLElement, s: StateJson): void {
  const d = s.device;
  const limits = Object.entries(d.limits ?? {}).sort(([a], [b]) => a.localeCompare(b));
  fill(el,
    facts([
      ['Kind', h('span', { class: `pill kind-${d.kind}` }, d.kind)],
      ['Backend', d.backend],
      ['Adapter', h('span', { class: 'adapter', title: d.adapter }, d.adapter)],
    ]),
    h('h3', {}, 'Features'),
    d.features?.length ? h('div', { class: 'chips' }, ...d.features.map((f) => h('span', { class: 'chip' }, f))) : h('p', { class: 'muted' }, 'none reported'),
    h('h3', {}, 'Limits'),
    limits.length
      ? h('table', { class: 'limits' }, h('tbody', {}, ...limits.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', { class: 'num' }, formatLimit(k, v))))))
      : h('p', { class: 'muted' }, 'none reported'),
  );
}

function formatLimit(name: string, v: number): string {
  return /Size$/.test(name) && v >= 65536 ? formatBytes(v) : formatNumber(v);
}

export function renderServer(el: HTMLElement, s: StateJson): void {
  const used = s.buffers.bytes / s.limits.residentBytes;
  fill(el,
    h('div', { class: 'stats' },
      stat('Uptime', formatDuration((s.now - s.startedAt) / 1000)),
      stat('Executables', formatNumber(s.cache.executables), `${formatNumber(s.cache.compiles)} compiled · ${formatNumber(s.cache.hits)} cache hits`),
      stat('Runs', formatNumber(s.executions.count), `${formatMs(s.executions.ms)} on the device`),
      stat('Buffers', formatNumber(s.buffers.count), `${formatBytes(s.buffers.bytes)} resident`),
    ),
    h('div', { class: 'meter', title: `${formatBytes(s.buffers.bytes)} of ${formatBytes(s.limits.residentBytes)}` },
      h('div', { class: 'meter-fill', style: `width: ${Math.min(100, used * 100).toFixed(2)}%` })),
    h('p', { class: 'muted small' }, `Resident memory: ${formatBytes(s.buffers.bytes)} of ${formatBytes(s.limits.residentBytes)}`),
    h('h3', {}, 'Server limits'),
    facts([
      ['Request body', formatBytes(s.limits.bodyBytes)],
      ['One tensor', formatBytes(s.limits.tensorBytes)],
      ['Ops per module', formatNumber(s.limits.opsPerModule)],
      ['Run time', formatMs(s.limits.executionMs)],
      ['Executable cache', formatBytes(s.limits.cacheBytes)],
    ]),
  );
}

function stat(label: string, value: string, sub?: string): HTMLElement {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value), sub ? h('div', { class: 'stat-sub' }, sub) : null);
}

export function renderBuffers(el: HTMLElement, s: StateJson): void {
  if (s.buffers.count === 0) {
    fill(el, h('p', { class: 'empty' }, 'No buffers are kept on the server. Clients keep outputs with keep: [true] or POST /buffers.'));
    return;
  }
  fill(el,
    h('p', { class: 'muted small' }, `${formatNumber(s.buffers.count)} buffers, ${formatBytes(s.buffers.bytes)}${s.buffers.listed.length < s.buffers.count ? ` (newest ${s.buffers.listed.length} listed)` : ''}`),
    h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Handle'), h('th', {}, 'Type'), h('th', { class: 'num' }, 'Bytes'), h('th', {}, 'Kept at'))),
      h('tbody', {}, ...s.buffers.listed.map((b) => h('tr', {},
        h('td', { class: 'mono' }, b.buffer), h('td', { class: 'mono' }, formatType(b)),
        h('td', { class: 'num' }, formatBytes(b.bytes)), h('td', {}, formatClock(b.createdAt)))))));
}

export function renderErrors(el: HTMLElement, s: StateJson): void {
  if (s.errors.length === 0) {
    fill(el, h('p', { class: 'empty' }, 'No errors since the server started.'));
    return;
  }
  fill(el, h('ul', { class: 'errors' }, ...s.errors.map((e) => h('li', {},
    h('div', { class: 'error-head' },
      h('span', { class: 'code-badge' }, e.code), h('span', { class: 'mono muted' }, `${e.method} ${e.url}`),
      h('span', { class: 'muted small right' }, formatClock(e.at))),
    h('div', { class: 'error-message' }, e.message)))));
}

/** The cached executables: a table whose rows open to show the IR and the WGSL kernels. */
export class ExecutablesView {
  private readonly open = new Set<string>();
  private readonly details = new Map<string, HTMLElement>();
  private last = '';

  constructor(private readonly el: HTMLElement, private readonly count: HTMLElement, private readonly onLoad: (e: ExecutableDetailJson) => void) {}

  render(list: ExecutableJson[]): void {
    list.sort((a, b) => b.createdAt - a.createdAt);
    // Re-render only on change, so open rows and scroll positions survive polling.
    const key = JSON.stringify(list.map((e) => [e.id, e.runs, e.latencyMs.p50]));
    if (key === this.last) return;
    this.last = key;
    for (const id of this.details.keys()) if (!list.some((e) => e.id === id)) this.details.delete(id);
    fill(this.count, String(list.length));
    if (list.length === 0) {
      fill(this.el, h('p', { class: 'empty' }, 'Nothing compiled yet. Compile a program in the playground, or POST /compile.'));
      return;
    }
    const rows: HTMLElement[] = [];
    for (const e of list) {
      const short = e.id.slice(0, 12);
      const isOpen = this.open.has(e.id);
      rows.push(h('tr', {
        class: `exe-row${isOpen ? ' open' : ''}`, 'data-id': short, tabindex: 0, 'aria-expanded': String(isOpen),
        onclick: () => this.toggle(e.id, list),
        onkeydown: (ev: Event) => { if ((ev as KeyboardEvent).key === 'Enter') this.toggle(e.id, list); },
      },
      h('td', { class: 'mono id', title: e.id }, h('span', { class: 'chev' }, isOpen ? '▾' : '▸'), short),
      h('td', { class: 'mono sig' }, `(${e.inputs.map(formatType).join(', ')}) → ${e.outputs.map(formatType).join(', ')}`),
      h('td', { class: 'num' }, e.kernels),
      h('td', { class: 'num' }, formatNumber(e.runs)),
      h('td', { class: 'num' }, formatMs(e.latencyMs.p50)),
      h('td', { class: 'num' }, formatMs(e.latencyMs.p90)),
      h('td', { class: 'num' }, formatMs(e.latencyMs.p99)),
      h('td', { class: 'num' }, formatBytes(e.bytes)),
      h('td', {}, formatClock(e.createdAt))));
      if (isOpen) rows.push(h('tr', { class: 'exe-detail' }, h('td', { colspan: 9 }, this.detail(e.id))));
    }
    fill(this.el, h('table', { class: 'table executables' },
      h('thead', {}, h('tr', {}, ...['Id', 'Signature', 'Kernels', 'Runs', 'p50', 'p90', 'p99', 'Device memory', 'Compiled']
        .map((t, i) => h('th', { class: i >= 2 && i <= 7 ? 'num' : undefined }, t)))),
      h('tbody', {}, ...rows)));
  }

  /** Opens the executable with this id (after a compile in the playground, say). */
  reveal(id: string, list: ExecutableJson[]): void {
    if (!this.open.has(id)) this.toggle(id, list);
  }

  private toggle(id: string, list: ExecutableJson[]): void {
    if (this.open.has(id)) this.open.delete(id);
    else this.open.add(id);
    this.last = '';
    this.render(list);
  }

  private detail(id: string): HTMLElement {
    let el = this.details.get(id);
    if (el) return el;
    el = h('div', { class: 'detail' }, h('p', { class: 'muted' }, 'loading…'));
    this.details.set(id, el);
    const target = el;
    getJson<ExecutableDetailJson>(`/executables/${id}`).then(
      (d) => fill(target, this.detailBody(d)),
      (err: Error) => {
        this.details.delete(id);
        fill(target, h('p', { class: 'error-text' }, err.message));
      },
    );
    return el;
  }

  private detailBody(d: ExecutableDetailJson): HTMLElement {
    const panes: [string, () => HTMLElement][] = [
      ['Canonical IR', () => codeBlock(d.ir, 'mlir')],
      ...d.wgsl.map((k, i): [string, () => HTMLElement] => [`${i + 1}. ${k.name}`, () => codeBlock(k.wgsl, 'wgsl')]),
    ];
    const body = h('div', { class: 'detail-pane' });
    const tabs = h('div', { class: 'tabs', role: 'tablist' });
    const select = (i: number) => {
      tabs.querySelectorAll('button').forEach((b, k) => b.classList.toggle('active', k === i));
      fill(body, panes[i][1]());
    };
    panes.forEach(([name], i) => tabs.append(h('button', { type: 'button', role: 'tab', class: 'tab', onclick: () => select(i) }, name)));
    select(0);
    return h('div', {},
      h('div', { class: 'detail-head' },
        h('span', { class: 'mono small muted' }, d.id),
        h('span', { class: 'muted small' }, `${d.wgsl.length} WGSL kernel${d.wgsl.length === 1 ? '' : 's'} · ${d.kernels} dispatch${d.kernels === 1 ? '' : 'es'} a run`),
        h('button', { type: 'button', class: 'small-button', onclick: (ev: Event) => { ev.stopPropagation(); this.onLoad(d); } }, 'Open in playground')),
      tabs, body);
  }
}
