/**
 * @file The dashboard end to end: a real kiln server on loopback (WebGPU device) and its page in
 * headless Chromium (Debian's, driven by playwright-core). The device is shown; a corpus program
 * picked in the playground runs and shows JAX's outputs and its kernels' GPU times; it then appears
 * among the executables with its IR, WGSL and last kernel times; a malformed program shows its error at the right line; with a token, the
 * page asks for it and works once it is given. Takes the README's screenshot, docs/dashboard.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import type { Device } from '../../runtime/device.js';
import { loadCase } from '../helpers/corpus.js';
import { referenceDevice, webgpuDevice } from '../helpers/devices.js';
// @ts-expect-error a build script in plain JavaScript, without type declarations
import { buildDashboard } from '../../scripts/build-dashboard.mjs';
import { narrowData } from '../../runtime/tensor.js';

const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'kiln-test-token-7';

let assets: string;
let device: Device;
let browser: Browser;
const servers: { close(): Promise<unknown> }[] = [];

async function serve(token?: string, on: Device = device): Promise<string> {
  const app = await buildApp({ device: on, token });
  servers.push(app);
  return app.listen({ host: '127.0.0.1', port: 0 });
}

async function newPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  // Console errors and uncaught exceptions fail the test: a page that half-works is a bug.
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The browser logs every non-2xx fetch; the error replies the tests provoke are expected.
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

/** Types into an editor's textarea the way a user pastes: replace everything, fire `input`. */
async function setEditor(page: Page, label: string, text: string): Promise<void> {
  await page.getByLabel(label).fill(text);
}

beforeAll(async () => {
  assets = mkdtempSync(join(tmpdir(), 'kiln-dashboard-'));
  await buildDashboard(assets);
  process.env.KILN_DASHBOARD_DIR = assets;
  device = await webgpuDevice();
  expect(device.kind).toBe('webgpu');
  // launch() gives every run a fresh temporary profile (playwright refuses --user-data-dir here).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  delete process.env.KILN_DASHBOARD_DIR;
  if (assets) rmSync(assets, { recursive: true, force: true });
});

describe('dashboard without a token', () => {
  let url: string;
  let page: Page;
  let context: BrowserContext;
  let problems: string[];

  beforeAll(async () => {
    url = await serve();
    ({ page, context, problems } = await newPage());
    await page.goto(url);
  }, 60_000);
  afterAll(async () => {
    await context?.close();
  });

  it('shows the device: kind, backend, adapter, features and limits', async () => {
    const info = device.info();
    const panel = page.locator('#device');
    await expect.poll(() => panel.textContent()).toContain(info.adapter);
    const text = (await panel.textContent())!;
    expect(text).toContain('webgpu');
    expect(text).toContain(info.backend);
    for (const f of info.features ?? []) expect(text).toContain(f);
    expect(text).toContain('maxComputeInvocationsPerWorkgroup');
    expect(await page.locator('#status').textContent()).toMatch(/up \d/);
  });

  it('marks a malformed program at the line and column of its error', async () => {
    await page.locator('#example').selectOption('');
    await setEditor(page, 'StableHLO program', [
      'func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {',
      '  %0 = stablehlo.add %a, %a : tensor<4xf32>',
      '  %1 = = stablehlo.multiply %0, %a : tensor<4xf32>',
      '  return %1 : tensor<4xf32>',
      '}',
    ].join('\n'));
    await page.locator('#compile').click();
    const box = page.locator('#pg-error');
    await box.waitFor({ state: 'visible' });
    expect(await box.textContent()).toContain('KILN_ERR_PARSE');
    expect(await box.locator('button[data-line]').textContent()).toMatch(/^line 3, column \d+$/);
    const editor = page.locator('#ir-editor .editor');
    expect(await editor.getAttribute('data-error-line')).toBe('3');
    expect(await page.locator('#ir-editor .editor-gutter .error').textContent()).toBe('3');
    // The marker sits on line 3 of the text: 10px padding + 2 lines of 20px.
    expect(await page.locator('#ir-editor .editor-error-band').evaluate((el) => (el as unknown as { style: { top: string } }).style.top)).toBe('50px');
    // The server recorded it too: the recent errors list shows it at the next poll.
    await expect.poll(() => page.locator('#errors').textContent(), { timeout: 5000 }).toContain('KILN_ERR_PARSE');
    // Editing clears the mark.
    await page.getByLabel('StableHLO program').press('End');
    await page.getByLabel('StableHLO program').type(' ');
    expect(await editor.getAttribute('data-error-line')).toBeNull();
  });

  it('marks bad inputs JSON in the inputs editor', async () => {
    await page.locator('#example').selectOption('scale_add');
    // Wait for the example's inputs: the malformed program left in the editor by the test before
    // also has a stablehlo.multiply, so the program text alone does not say the example arrived.
    await expect.poll(() => page.getByLabel('Inputs as JSON').inputValue()).toContain('"shape": [2,3], ');
    expect(await page.getByLabel('StableHLO program').inputValue()).toContain('stablehlo.multiply');
    const inputs = await page.getByLabel('Inputs as JSON').inputValue();
    await setEditor(page, 'Inputs as JSON', inputs.replace('"shape": [2,3], ', '"shape": [2,3] '));
    await page.locator('#run').click();
    await page.locator('#pg-error').waitFor({ state: 'visible' });
    expect(await page.locator('#pg-error').textContent()).toContain('not valid JSON');
    expect(await page.locator('#inputs-editor .editor').getAttribute('data-error-line')).toBe('2');
  });

  it('runs a corpus program picked in the playground and shows the outputs JAX computed', async () => {
    const softmax = loadCase('softmax');
    await page.locator('#example').selectOption('softmax');
    await expect.poll(() => page.getByLabel('StableHLO program').inputValue()).toBe(softmax.text);
    const inputs = JSON.parse(await page.getByLabel('Inputs as JSON').inputValue()) as { shape: number[]; data: number[] }[];
    expect(inputs.map((t) => t.shape)).toEqual(softmax.inputs.map((t) => t.shape));
    expect(inputs[0].data).toEqual(Array.from(narrowData(softmax.inputs[0])));

    await page.locator('#repeat').selectOption('10');
    await page.locator('#run').click();
    const out = page.locator('#pg-result .output[data-output="0"]');
    await out.waitFor({ timeout: 30_000 });
    expect(await page.locator('#pg-error').isHidden()).toBe(true);
    expect(await out.locator('.output-head').textContent()).toContain('f32[8,16]');
    expect(await out.locator('[data-match]').getAttribute('data-match')).toBe('true');
    // The values shown are JAX's, to the six digits the page prints.
    const shown = ((await out.locator('pre.values').textContent())!.match(/-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/g) ?? []).map(Number);
    const want = Array.from(narrowData(softmax.outputs[0]));
    expect(shown).toHaveLength(want.length);
    shown.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 + 1e-3 * Math.abs(want[i])));
    // Timings and kernels of this run.
    const result = (await page.locator('#pg-result').textContent())!;
    expect(result).toContain('Median of 10 runs');
    expect(result).toMatch(/Kernels: \d+ WGSL shaders?/);
    expect(result).toMatch(/GPU busy, last run\s*\d/);

    // The last run was profiled: one row per WGSL kernel of the executable, in its order, with
    // dispatches, GPU time and a share of the run; the shares add up to the whole run.
    const id = (await page.locator('#pg-result .exe-id').first().getAttribute('data-id'))!;
    const detail = await (await fetch(`${url}/executables/${id}`)).json() as {
      kernels: number; wgsl: { name: string }[]; kernelTimes: { kernels: { name: string; dispatches: number; ms: number }[] } | null;
    };
    expect(detail.kernelTimes).not.toBeNull();
    const table = page.locator('#pg-kernel-times table.kernel-times');
    await table.waitFor();
    expect(await page.locator('#pg-kernel-times h3').textContent()).toBe('Kernel times (last run)');
    const rows = table.locator('tbody tr');
    expect(await rows.count()).toBe(detail.wgsl.length);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kernel')))).toEqual(detail.wgsl.map((k) => k.name));
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => (td as { textContent: string | null }).textContent ?? '')));
    let dispatches = 0;
    let share = 0;
    for (const [i, [n, name, d, ms, pct]] of cells.entries()) {
      expect(n).toBe(String(i + 1));
      expect(name).toBe(detail.wgsl[i].name);
      dispatches += Number(d);
      if (Number(d) > 0) expect(ms).toMatch(/^\d+(\.\d+)? (µs|ms)$/);
      expect(pct).toMatch(/^(\d+\.\d%|<0\.1%)$/);
      share += pct.startsWith('<') ? 0 : Number(pct.slice(0, -1));
    }
    expect(dispatches).toBe(detail.kernels);
    expect(Math.abs(share - 100)).toBeLessThanOrEqual(0.1 * cells.length + 0.1);
    // The kernel with the largest share is marked, and its bar is the longest.
    expect(await table.locator('tbody tr.hot').count()).toBeGreaterThanOrEqual(1);
    expect(await table.locator('tfoot').textContent()).toMatch(/GPU busy .+ of a .+ span/);
  });

  it('lists the program among the executables, with its IR and WGSL', async () => {
    const id = (await page.locator('#pg-result .exe-id').first().getAttribute('data-id'))!;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const row = page.locator(`#executables tr.exe-row[data-id="${id.slice(0, 12)}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('(f32[8,16]) → f32[8,16]');
    const cells = await row.locator('td').allTextContents();
    expect(Number(cells[3])).toBeGreaterThanOrEqual(10); // runs
    // The playground opened it: canonical IR first, then each WGSL kernel.
    const detail = page.locator(`#executables tr.exe-row[data-id="${id.slice(0, 12)}"] + tr.exe-detail`);
    await expect.poll(() => detail.locator('pre.code').first().textContent()).toContain('stablehlo.');
    expect(await detail.locator('.tok-op').count()).toBeGreaterThan(0);
    const tabs = detail.locator('.tab');
    expect(await tabs.count()).toBeGreaterThan(2);
    await detail.getByRole('tab', { name: /^1\. / }).click();
    expect(await detail.locator('pre.code').textContent()).toMatch(/fn main|@compute/);
    // The playground's run was profiled, so the detail shows its kernel times too; a kernel's name
    // opens its WGSL.
    await expect.poll(() => detail.getByRole('tab', { name: 'Kernel times' }).count(), { timeout: 10_000 }).toBe(1);
    await detail.getByRole('tab', { name: 'Kernel times' }).click();
    const table = detail.locator('table.kernel-times');
    const names = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kernel')));
    const wgslTabs = (await tabs.allTextContents()).filter((t) => /^\d+\. /.test(t));
    expect(names.map((n, i) => `${i + 1}. ${n}`)).toEqual(wgslTabs);
    await table.locator('tbody tr').last().getByRole('button').click();
    expect(await detail.locator('.tab.active').textContent()).toBe(wgslTabs[wgslTabs.length - 1]);
    expect(await detail.locator('pre.code').textContent()).toMatch(/@compute/);
    await detail.getByRole('tab', { name: 'Canonical IR' }).click();
  });

  it('shows the traffic chart and resident buffers, and nothing went wrong in the page', async () => {
    await expect.poll(() => page.locator('#chart rect.bar').count(), { timeout: 5000 }).toBeGreaterThan(0);
    expect(await page.locator('#buffers').textContent()).toContain('No buffers');
    await page.waitForTimeout(1200); // one more poll, so the chart shows the runs
    await page.locator('#pg-result').scrollIntoViewIfNeeded();
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
    expect(problems).toEqual([]);
  });

  it('opens a cached executable in the playground, with zero inputs of its types, and runs it', async () => {
    const id = (await page.locator('#pg-result .exe-id').first().getAttribute('data-id'))!;
    const detail = page.locator(`#executables tr.exe-row[data-id="${id.slice(0, 12)}"] + tr.exe-detail`);
    await detail.getByRole('button', { name: 'Open in playground' }).click();
    expect(await page.getByLabel('StableHLO program').inputValue()).toMatch(/^module /);
    const inputs = JSON.parse(await page.getByLabel('Inputs as JSON').inputValue()) as { shape: number[]; data: number[] }[];
    expect(inputs.map((t) => t.shape)).toEqual([[8, 16]]);
    await page.locator('#repeat').selectOption('1');
    await page.locator('#run').click();
    const out = page.locator('#pg-result .output[data-output="0"]');
    await out.waitFor();
    // softmax of a zero row is uniform: 1/16 everywhere; no expected outputs to check against now.
    const shown = (await out.locator('pre.values').textContent())!.match(/\d+\.\d+/g)!.map(Number);
    expect(shown).toEqual(new Array(128).fill(0.0625));
    expect(await out.locator('[data-match]').count()).toBe(0);
    // One run, profiled: its kernel times are shown.
    expect(await page.locator('#pg-kernel-times h3').textContent()).toBe('Kernel times');
    expect(await page.locator('#pg-kernel-times table.kernel-times tbody tr').count()).toBeGreaterThan(0);
    // The same graph hash: it ran the cached executable, not a new one.
    expect(await page.locator('#pg-result .exe-id').first().getAttribute('data-id')).toBe(id);
    expect(problems).toEqual([]);
  });
});

describe('dashboard on the reference device', () => {
  it('runs a program and says why there are no kernel times', async () => {
    const url = await serve(undefined, referenceDevice());
    const { context, page, problems } = await newPage();
    try {
      await page.goto(url);
      await expect.poll(() => page.locator('#device').textContent()).toContain('reference');
      await page.locator('#example').selectOption('row_sum');
      // row_sum's own signature: the example shown before it (softmax) reduces too.
      await expect.poll(() => page.getByLabel('StableHLO program').inputValue()).toContain('-> tensor<2xf32>');
      await page.locator('#run').click();
      const out = page.locator('#pg-result .output[data-output="0"]');
      await out.waitFor({ timeout: 30_000 });
      expect(await out.locator('pre.values').textContent()).toBe('[10.0, 100.0]');
      expect(await page.locator('#pg-kernel-times table').count()).toBe(0);
      expect(await page.locator('#pg-kernel-times .no-profile').textContent())
        .toMatch(/^No kernel times: the reference device does not time kernels/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('dashboard with a token', () => {
  let url: string;

  beforeAll(async () => {
    url = await serve(TOKEN);
  });

  it('keeps everything of the server behind the token; the page itself is public', async () => {
    expect((await fetch(`${url}/`)).status).toBe(200);
    const html = await (await fetch(`${url}/`)).text();
    expect((await fetch(`${url}/assets/main.js`)).status).toBe(200);
    expect(html).not.toContain(device.info().adapter);
    for (const path of ['/dashboard/state', '/dashboard/examples', '/dashboard/examples/softmax', '/executables']) {
      expect((await fetch(url + path)).status, path).toBe(401);
      expect((await fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}` } })).status, path).toBe(200);
    }
  });

  it('asks for the token, refuses a wrong one, and works with the right one', async () => {
    const { context, page, problems } = await newPage();
    try {
      await page.goto(url);
      await page.locator('#login').waitFor({ state: 'visible' });
      expect(await page.locator('#app').isHidden()).toBe(true);
      expect(await page.locator('#device').textContent()).toBe('');

      await page.locator('#token').fill('not-the-token');
      await page.locator('#login-form button[type=submit]').click();
      await expect.poll(() => page.locator('#login-error').textContent()).toContain('not accepted');
      expect(await page.locator('#app').isHidden()).toBe(true);

      await page.locator('#token').fill(TOKEN);
      await page.locator('#login-form button[type=submit]').click();
      await expect.poll(() => page.locator('#device').textContent()).toContain(device.info().adapter);
      expect(await page.locator('#login').isHidden()).toBe(true);

      // The playground works through the token too.
      await page.locator('#example').selectOption('row_sum');
      // row_sum's own signature: the example shown before it (softmax) reduces too.
      await expect.poll(() => page.getByLabel('StableHLO program').inputValue()).toContain('-> tensor<2xf32>');
      await page.locator('#run').click();
      const out = page.locator('#pg-result .output[data-output="0"]');
      await out.waitFor({ timeout: 30_000 });
      expect(await out.locator('pre.values').textContent()).toBe('[10.0, 100.0]');
      expect(await out.locator('[data-match]').getAttribute('data-match')).toBe('true');

      // The token lasts as long as the tab: a reload needs no second login.
      expect(await page.evaluate("sessionStorage.getItem('kiln.token')")).toBe(TOKEN);
      await page.reload();
      await expect.poll(() => page.locator('#device').textContent()).toContain(device.info().adapter);
      expect(await page.locator('#login').isHidden()).toBe(true);
      expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
