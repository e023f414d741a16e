/**
 * @file The dashboard page's entry: asks for the token when the server wants one, then polls the
 * server once a second (state, chart) and every few seconds (executables), and wires the playground.
 * Polling pauses while the tab is hidden.
 */
import { ApiError, getJson, getToken, setToken, type ExecutableJson, type StateJson } from './api.js';
import { chartSvg } from './chart.js';
import { byId, fill, formatDuration, formatMs, h } from './dom.js';
import { Playground } from './playground.js';
import { ExecutablesView, renderBuffers, renderModels, renderDevice, renderErrors, renderServer } from './views.js';

const STATE_MS = 1000;
const EXECUTABLES_MS = 3000;

let started = false;
let lastExecutables = 0;
let executables: ExecutableJson[] = [];
let exeView: ExecutablesView;
let playground: Playground;

function showLogin(message?: string): void {
  byId('app').hidden = true;
  byId('login').hidden = false;
  fill(byId('status'), h('span', { class: 'dot bad' }), 'locked');
  fill(byId('login-error'), message ?? '');
  byId<HTMLInputElement>('token').focus();
}

async function refreshState(): Promise<StateJson> {
  const s = await getJson<StateJson>('/dashboard/state');
  renderDevice(byId('device'), s);
  renderServer(byId('server'), s);
  renderBuffers(byId('buffers'), s);
  renderModels(byId('models'), s);
  renderErrors(byId('errors'), s);
  fill(byId('errors-count'), String(s.errors.length));
  byId('chart').innerHTML = chartSvg(s.seconds, Math.floor(s.now / 1000));
  const last = s.seconds.find((x) => x.t === Math.floor(s.now / 1000) - 1);
  fill(byId('chart-now'), `${last?.requests ?? 0} req/s · ${formatMs(last?.gpuMs ?? 0)} GPU/s`);
  fill(byId('status'), h('span', { class: 'dot ok' }), `up ${formatDuration((s.now - s.startedAt) / 1000)}`,
    h('span', { class: 'muted' }, ` · kiln ${s.version} · ${s.device.kind}`));
  return s;
}

async function refreshExecutables(): Promise<void> {
  executables = await getJson<ExecutableJson[]>('/executables');
  lastExecutables = Date.now();
  exeView.render(executables);
}

async function tick(): Promise<void> {
  // Nothing to poll while the tab is hidden or the token is being asked for.
  if (document.hidden || !byId('login').hidden) return;
  try {
    await refreshState();
    if (Date.now() - lastExecutables >= EXECUTABLES_MS) await refreshExecutables();
  } catch (e) {
    if (e instanceof ApiError && e.unauthorized) showLogin('The token was not accepted.');
    else fill(byId('status'), h('span', { class: 'dot bad' }), (e as Error).message);
  }
}

/** Everything after the server has accepted us. */
async function start(): Promise<void> {
  byId('login').hidden = true;
  byId('app').hidden = false;
  byId('logout').hidden = getToken() === null;
  if (started) return void tick();
  started = true;
  exeView = new ExecutablesView(byId('executables'), byId('exe-count'), (d) => playground.load(d));
  playground = new Playground((id) => {
    // Show the compiled program at once, opened, rather than at the next poll.
    void refreshExecutables().then(() => exeView.reveal(id, executables));
    void refreshState();
  });
  await Promise.all([tick(), refreshExecutables(), playground.loadExamples()]);
  setInterval(() => void tick(), STATE_MS);
}

async function connect(): Promise<void> {
  try {
    await getJson<StateJson>('/dashboard/state');
  } catch (e) {
    if (e instanceof ApiError && e.unauthorized) {
      showLogin(getToken() ? 'The saved token was not accepted; enter it again.' : undefined);
      return;
    }
    fill(byId('status'), h('span', { class: 'dot bad' }), (e as Error).message);
    return;
  }
  await start();
}

byId('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>('token');
  setToken(input.value.trim() || null);
  input.value = '';
  void connect().then(() => {
    if (!byId('login').hidden) fill(byId('login-error'), 'That token was not accepted.');
  });
});
byId('logout').addEventListener('click', () => {
  setToken(null);
  location.reload();
});
document.addEventListener('kiln:unauthorized', () => showLogin('The token was not accepted.'));
void connect();
