/**
 * @file The playground: pick an example or paste StableHLO and its inputs as corpus JSON, compile
 * (POST /compile), run (POST /execute with msgpack, like every kiln client), and see the outputs
 * (checked against the example's expected outputs while the program and inputs are the example's),
 * the run times the server recorded, each kernel's GPU time (the last run asks for `profile`), the
 * kernels, and any error marked at its line and column.
 */
import {
  ApiError, getJson, postMsgpack, postText,
  type CompileJson, type ExampleJson, type ExampleSummaryJson, type ExecutableDetailJson, type ProfileJson,
} from './api.js';
import { byId, fill, formatBytes, formatMs, formatType, h } from './dom.js';
import { Editor } from './editor.js';
import { compareTensors, formatTensor, fromCorpus, fromWire, inputsText, parseInputs, toWire, zeroInputs, type WireTensor } from './tensors.js';
import { codeBlock, kernelNote, kernelTable } from './views.js';

/** POST /execute's reply (see server/calls.ts). */
interface RunReply {
  outputs: WireTensor[];
  profile?: ProfileJson | null;
  profileUnavailable?: string;
}

const STARTER = `func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.multiply %x, %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
`;

export class Playground {
  private readonly ir: Editor;
  private readonly inputs: Editor;
  private readonly select: HTMLSelectElement;
  private readonly repeat: HTMLSelectElement;
  private readonly status: HTMLElement;
  private readonly errorBox: HTMLElement;
  private readonly result: HTMLElement;
  private readonly note: HTMLElement;
  /** The example whose text is in the editors, while neither was edited (so its outputs apply). */
  private example: ExampleJson | undefined;
  private busy = false;

  constructor(private readonly onChanged: (id: string) => void) {
    this.ir = new Editor('mlir', { label: 'StableHLO program', rows: 18, onChange: () => this.edited() });
    this.inputs = new Editor('json', { label: 'Inputs as JSON', rows: 18, onChange: () => this.edited() });
    byId('ir-editor').append(this.ir.root);
    byId('inputs-editor').append(this.inputs.root);
    this.select = byId<HTMLSelectElement>('example');
    this.repeat = byId<HTMLSelectElement>('repeat');
    this.status = byId('pg-status');
    this.errorBox = byId('pg-error');
    this.result = byId('pg-result');
    this.note = byId('example-note');
    this.select.addEventListener('change', () => void this.pick(this.select.value));
    byId('compile').addEventListener('click', () => void this.guard(async () => void (await this.compile())));
    byId('run').addEventListener('click', () => void this.guard(() => this.run()));
    this.ir.textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void this.guard(() => this.run());
    });
    this.ir.value = STARTER;
    this.inputs.value = '[\n  {"dtype": "f32", "shape": [4], "data": [1, 2, 3, 4]}\n]\n';
  }

  /** Lists the server's examples and loads the first corpus program (or the first built-in one). */
  async loadExamples(): Promise<void> {
    const list = await getJson<ExampleSummaryJson[]>('/dashboard/examples');
    const groups = new Map<string, ExampleSummaryJson[]>();
    for (const e of list) groups.set(e.source, [...(groups.get(e.source) ?? []), e]);
    fill(this.select, h('option', { value: '' }, '— your own program —'),
      ...[...groups].map(([source, es]) => h('optgroup', { label: source }, ...es.map((e) => h('option', { value: e.name }, e.name)))));
    const first = list.find((e) => e.name === 'softmax') ?? list.find((e) => e.source !== 'built-in') ?? list[0];
    if (first) await this.pick(first.name);
  }

  /** Puts a program in the editor with zero inputs of its types (from the executables list). */
  load(d: ExecutableDetailJson): void {
    this.select.value = '';
    this.example = undefined;
    this.ir.value = d.ir;
    this.inputs.value = zeroInputs(d.inputs);
    fill(this.note, `executable ${d.id.slice(0, 12)}, with zero inputs`);
    this.clear();
    byId('playground').scrollIntoView({ behavior: 'smooth' });
  }

  private async pick(name: string): Promise<void> {
    if (!name) return;
    this.select.value = name;
    const e = await getJson<ExampleJson>(`/dashboard/examples/${encodeURIComponent(name)}`);
    this.ir.value = e.ir;
    this.inputs.value = inputsText(e.inputs);
    this.example = e;
    fill(this.note, e.note || (e.outputs ? 'expected outputs known' : ''));
    this.clear();
  }

  private edited(): void {
    if (!this.example) return;
    this.example = undefined;
    this.select.value = '';
    fill(this.note, 'edited: outputs are no longer checked against the example');
  }

  private clear(): void {
    this.errorBox.hidden = true;
    fill(this.errorBox);
    fill(this.result);
    fill(this.status);
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    document.body.classList.add('busy');
    try {
      await work();
    } catch (e) {
      this.showError(e);
    } finally {
      this.busy = false;
      document.body.classList.remove('busy');
    }
  }

  private async compile(): Promise<CompileJson> {
    this.clear();
    this.ir.clearError();
    this.inputs.clearError();
    fill(this.status, 'compiling…');
    const t0 = performance.now();
    const c = await postText<CompileJson>('/compile', this.ir.value);
    fill(this.status, `${c.cached ? 'found in the cache' : 'compiled'} in ${formatMs(performance.now() - t0)}`);
    fill(this.result, this.summary(c));
    this.onChanged(c.id);
    return c;
  }

  private async run(): Promise<void> {
    let inputs;
    try {
      inputs = parseInputs(this.inputs.value);
    } catch (e) {
      this.clear();
      this.markJsonError(e as Error);
      throw e;
    }
    const c = await this.compile();
    const times = Number(this.repeat.value) || 1;
    fill(this.status, `running${times > 1 ? ` ×${times}` : ''}…`);
    const wire = inputs.map(toWire);
    let reply: RunReply | undefined;
    const t0 = performance.now();
    for (let i = 0; i < times; i++) {
      // Only the last run is profiled: timing every dispatch slows a run a little, and the median
      // below should be of ordinary runs (the first ones also warm the GPU up).
      reply = await postMsgpack<RunReply>('/execute', { executable: c.id, inputs: wire, profile: i === times - 1 });
    }
    const roundTrip = (performance.now() - t0) / times;
    const d = await getJson<ExecutableDetailJson>(`/executables/${c.id}`);
    const outputs = reply!.outputs.map((w, i) => fromWire(w, `outputs[${i}]`));
    fill(this.status, `ran ${times === 1 ? 'once' : `${times} times`}`);
    fill(this.result, this.summary(c), this.timings(d, times, roundTrip, reply!), h('h3', {}, 'Outputs'),
      h('div', { class: 'outputs' }, ...outputs.map((t, i) => {
        const want = this.example?.outputs?.[i];
        const cmp = want ? compareTensors(t, fromCorpus(want, `expected[${i}]`)) : undefined;
        return h('div', { class: 'output', 'data-output': i },
          h('div', { class: 'output-head' },
            h('span', { class: 'mono' }, `output ${i}`), h('span', { class: 'mono muted' }, formatType(t)),
            cmp ? h('span', { class: `badge ${cmp.ok ? 'ok' : 'bad'}`, 'data-match': String(cmp.ok) },
              cmp.ok ? `matches expected (${cmp.detail})` : `differs from expected: ${cmp.detail}`) : null),
          h('pre', { class: 'values' }, formatTensor(t)));
      })));
    this.onChanged(c.id);
  }

  private summary(c: CompileJson): HTMLElement {
    return h('div', { class: 'summary' },
      h('span', { class: 'badge ok' }, c.cached ? 'cached' : 'compiled'),
      h('span', {}, 'executable ', h('code', { class: 'exe-id', 'data-id': c.id }, c.id.slice(0, 12))),
      h('span', { class: 'mono muted' }, `(${c.inputs.map(formatType).join(', ')}) → ${c.outputs.map(formatType).join(', ')}`),
      h('span', { class: 'muted' }, `${c.kernels} kernel dispatch${c.kernels === 1 ? '' : 'es'} · ${formatBytes(c.bytes)} planned`));
  }

  private timings(d: ExecutableDetailJson, times: number, roundTrip: number, reply: RunReply): HTMLElement {
    const mine = d.timings.slice(-times);
    const sorted = [...mine].sort((a, b) => a - b);
    const p = reply.profile;
    const cell = (label: string, v: string, sub?: string) => h('div', { class: 'stat' },
      h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value small-value' }, v), sub ? h('div', { class: 'stat-sub' }, sub) : null);
    return h('div', {},
      h('h3', {}, 'Timings'),
      h('div', { class: 'stats timings' },
        cell(times === 1 ? 'Run on the server' : `Median of ${times} runs`, formatMs(sorted[Math.floor(sorted.length / 2)])),
        cell('Fastest', formatMs(sorted[0])),
        cell('Round trip (browser)', formatMs(roundTrip)),
        cell(`All ${d.runs} runs p50 / p99`, `${formatMs(d.latencyMs.p50)} / ${formatMs(d.latencyMs.p99)}`),
        p ? cell(`GPU busy${times > 1 ? ', last run' : ''}`, formatMs(p.busyMs), `over a ${formatMs(p.spanMs)} span`) : null),
      h('p', { class: 'muted small' }, 'Run time is the server\'s wall time for the whole program: upload, every kernel, and readback.'),
      h('div', { class: 'kernel-timing', id: 'pg-kernel-times' },
        h('h3', {}, times > 1 ? 'Kernel times (last run)' : 'Kernel times'),
        p ? kernelTable(p) : h('p', { class: 'muted small no-profile' }, `No kernel times: ${reply.profileUnavailable ?? 'the server did not profile this run'}.`),
        p ? kernelNote() : null),
      d.wgsl.length
        ? h('details', { class: 'kernels' },
          h('summary', {}, `Kernels: ${d.wgsl.length} WGSL shader${d.wgsl.length === 1 ? '' : 's'}, ${d.kernels} dispatch${d.kernels === 1 ? '' : 'es'} a run`),
          ...d.wgsl.map((k, i) => h('div', { class: 'kernel' }, h('div', { class: 'kernel-name mono' }, `${i + 1}. ${k.name}`), codeBlock(k.wgsl, 'wgsl', 'short'))))
        : h('p', { class: 'muted small' }, 'This device runs no WGSL kernels (the reference interpreter).'));
  }

  /** JSON.parse says where it stopped as "position N" (and newer V8 as "line L column C"). */
  private markJsonError(e: Error): void {
    const m = /line (\d+) column (\d+)/.exec(e.message);
    const p = /position (\d+)/.exec(e.message);
    if (m) this.inputs.setError(Number(m[1]), Number(m[2]));
    else if (p) {
      const before = this.inputs.value.slice(0, Number(p[1])).split('\n');
      this.inputs.setError(before.length, before[before.length - 1].length + 1);
    }
  }

  private showError(e: unknown): void {
    fill(this.status);
    const err = e instanceof ApiError ? e : undefined;
    if (err?.unauthorized) {
      document.dispatchEvent(new CustomEvent('kiln:unauthorized'));
      return;
    }
    const code = err?.code ?? (e as { code?: string }).code ?? 'ERROR';
    const where = err?.line !== undefined ? { line: err.line, column: err.column ?? 1 } : undefined;
    if (where) this.ir.setError(where.line, where.column);
    const editor = where ? this.ir : this.inputs.root.dataset.errorLine ? this.inputs : undefined;
    this.errorBox.hidden = false;
    fill(this.errorBox,
      h('div', { class: 'error-head' }, h('span', { class: 'code-badge' }, code),
        where ? h('button', { type: 'button', class: 'link', 'data-line': where.line, onclick: () => this.ir.focusError() }, `line ${where.line}, column ${where.column}`) : null,
        !where && editor ? h('button', { type: 'button', class: 'link', onclick: () => editor.focusError() }, `inputs line ${editor.root.dataset.errorLine}`) : null),
      h('div', { class: 'error-message' }, (e as Error).message));
  }
}
