/**
 * @file The read-only panels of the dashboard, each rendered from what the server reports: the
 * device, the server's counters and limits, resident buffers, recent errors, and the cached
 * executables with their canonical IR, WGSL kernels and the kernels' last GPU times.
 */
import { getJson, type ExecutableDetailJson, type ExecutableJson, type ProfileJson, type StateJson } from './api.js';
import { fill, formatBytes, formatClock, formatDuration, formatMs, formatNumber, formatType, h } from './dom.js';
import { highlight, type Lang } from './highlight.js';
import { formatShare, kernelRows } from './kernels.js';

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

/**
 * The kernel timing table of a profiled run: every kernel with its dispatches, GPU time and share
 * of the run as a number and a bar, so the kernel worth optimising stands out. `onPick(i)`, when
 * given, makes each kernel's name a button (the executable detail opens that kernel's WGSL).
 */
export function kernelTable(p: ProfileJson, onPick?: (index: number) => void): HTMLElement {
  const rows = kernelRows(p);
  const top = Math.max(0, ...rows.map((r) => r.share));
  return h('table', { class: 'table kernel-times' },
    h('thead', {}, h('tr', {},
      h('th', { class: 'num' }, '#'), h('th', {}, 'Kernel'), h('th', { class: 'num' }, 'Dispatches'),
      h('th', { class: 'num' }, 'GPU time'), h('th', { class: 'share' }, 'Share of the run'))),
    h('tbody', {}, ...rows.map((r) => h('tr', { 'data-kernel': r.name, class: r.share === top && top > 0 ? 'hot' : undefined },
      h('td', { class: 'num muted' }, r.index + 1),
      h('td', { class: 'mono kernel-cell' }, onPick
        ? h('button', { type: 'button', class: 'link mono', title: 'Show its WGSL', onclick: (ev: Event) => { ev.stopPropagation(); onPick(r.index); } }, r.name)
        : r.name),
      h('td', { class: 'num' }, formatNumber(r.dispatches)),
      h('td', { class: 'num', 'data-ms': r.ms }, r.dispatches ? formatMs(r.ms) : '–'),
      h('td', { class: 'share' },
        h('div', { class: 'share-cell' },
          h('div', { class: 'share-bar' }, h('div', { class: 'share-fill', style: `width: ${(r.share * 100).toFixed(2)}%` })),
          h('span', { class: 'num share-text' }, formatShare(r.share))))))),
    h('tfoot', {}, h('tr', {},
      h('td', {}), h('td', { class: 'muted' }, 'all kernels'),
      h('td', { class: 'num' }, formatNumber(rows.reduce((a, r) => a + r.dispatches, 0))),
      h('td', { class: 'num' }, formatMs(rows.reduce((a, r) => a + r.ms, 0))),
      h('td', { class: 'muted small' }, `GPU busy ${formatMs(p.busyMs)} of a ${formatMs(p.spanMs)} span`))));
}

/** The line under the table: what the numbers are. */
export function kernelNote(): HTMLElement {
  return h('p', { class: 'muted small' },
    'GPU times from timestamp queries around every dispatch. The span runs from the first kernel\'s start to the last one\'s end, gaps between dispatches included.');
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

/** The models of the tenant's sessions: signature (the inputs infer takes), weights, runs, mean latency. */
export function renderModels(el: HTMLElement, s: StateJson): void {
  if (s.models.length === 0) {
    fill(el, h('p', { class: 'empty' }, `No models are registered (POST /models). ${formatNumber(s.sessions)} sessions open.`));
    return;
  }
  fill(el,
    h('p', { class: 'muted small' }, `${formatNumber(s.models.length)} models, ${formatBytes(s.models.reduce((n, m) => n + m.bytes, 0))} of weights; ${formatNumber(s.sessions)} sessions open`),
    h('table', { class: 'table models' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Model'), h('th', {}, 'Session'), h('th', {}, 'Inputs'), h('th', {}, 'Outputs'),
        h('th', { class: 'num' }, 'Weights'), h('th', { class: 'num' }, 'Runs'), h('th', { class: 'num' }, 'Mean latency'))),
      h('tbody', {}, ...s.models.map((m) => h('tr', {},
        h('td', { class: 'mono' }, m.name), h('td', { class: 'mono muted' }, m.session.slice(0, 8)),
        h('td', { class: 'mono' }, m.inputs.map((i) => `${i.arg}: ${formatType(i)}`).join(', ') || 'none'),
        h('td', { class: 'mono' }, m.outputs.map((o) => formatType(o)).join(', ')),
        h('td', { class: 'num' }, `${m.weights.length} (${formatBytes(m.bytes)})`), h('td', { class: 'num' }, formatNumber(m.runs)),
        h('td', { class: 'num' }, m.latencyMs.mean === null ? '-' : formatMs(m.latencyMs.mean)))))));
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
  /** The kernel times each loaded detail shows (`profiledAt`), to reload it when newer ones exist. */
  private readonly detailProfiled = new Map<string, number | null>();
  /** The tab open in each detail, by name, kept across reloads. */
  private readonly tabs = new Map<string, string>();
  private last = '';

  constructor(private readonly el: HTMLElement, private readonly count: HTMLElement, private readonly onLoad: (e: ExecutableDetailJson) => void) {}

  render(list: ExecutableJson[]): void {
    list.sort((a, b) => b.createdAt - a.createdAt);
    // Re-render only on change, so open rows and scroll positions survive polling.
    let stale = false;
    for (const id of this.details.keys()) {
      const e = list.find((x) => x.id === id);
      // Gone, or profiled after its loaded detail was: load it again (checked on every poll, since
      // a detail can arrive after the list that announced newer kernel times).
      const loaded = this.detailProfiled.get(id);
      if (!e || (loaded !== undefined && (e.profiledAt ?? 0) > (loaded ?? 0))) {
        this.details.delete(id);
        this.detailProfiled.delete(id);
        stale = true;
      }
    }
    const key = JSON.stringify(list.map((e) => [e.id, e.runs, e.latencyMs.p50, e.profiledAt]));
    if (key === this.last && !stale) return;
    this.last = key;
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
      (d) => {
        this.detailProfiled.set(id, d.kernelTimes?.at ?? null);
        fill(target, this.detailBody(d));
      },
      (err: Error) => {
        this.details.delete(id);
        fill(target, h('p', { class: 'error-text' }, err.message));
      },
    );
    return el;
  }

  private detailBody(d: ExecutableDetailJson): HTMLElement {
    const times = d.kernelTimes;
    const firstKernel = times ? 2 : 1;
    const panes: [string, () => HTMLElement][] = [
      ['Canonical IR', () => codeBlock(d.ir, 'mlir')],
      ...(times ? [['Kernel times', () => h('div', { class: 'kernel-timing' },
        h('p', { class: 'muted small' }, `The last profiled run, at ${formatClock(times.at)} (the playground's Run profiles its last run; clients send profile: true).`),
        kernelTable(times, (k) => select(firstKernel + k)), kernelNote())] as [string, () => HTMLElement]] : []),
      ...d.wgsl.map((k, i): [string, () => HTMLElement] => [`${i + 1}. ${k.name}`, () => codeBlock(k.wgsl, 'wgsl')]),
    ];
    const body = h('div', { class: 'detail-pane' });
    const tabs = h('div', { class: 'tabs', role: 'tablist' });
    const select = (i: number) => {
      tabs.querySelectorAll('button').forEach((b, k) => b.classList.toggle('active', k === i));
      this.tabs.set(d.id, panes[i][0]);
      fill(body, panes[i][1]());
    };
    panes.forEach(([name], i) => tabs.append(h('button', { type: 'button', role: 'tab', class: 'tab', onclick: () => select(i) }, name)));
    select(Math.max(0, panes.findIndex(([name]) => name === this.tabs.get(d.id))));
    return h('div', {},
      h('div', { class: 'detail-head' },
        h('span', { class: 'mono small muted' }, d.id),
        h('span', { class: 'muted small' }, `${d.wgsl.length} WGSL kernel${d.wgsl.length === 1 ? '' : 's'} · ${d.kernels} dispatch${d.kernels === 1 ? '' : 'es'} a run`),
        times ? h('span', { class: 'muted small', 'data-busy': times.busyMs }, `last profiled run: GPU busy ${formatMs(times.busyMs)}`) : null,
        h('button', { type: 'button', class: 'small-button', onclick: (ev: Event) => { ev.stopPropagation(); this.onLoad(d); } }, 'Open in playground')),
      tabs, body);
  }
}
