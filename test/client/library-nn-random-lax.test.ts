/**
 * @file nn, nn.initializers, random and lax against JAX: every case of
 * test/fixtures/jax/library.json named `nn.*` (but the pools), `nn.initializers.*`, `random.*` and
 * `lax.*` (but conv, dynamic slicing, segment reductions and reduceWindow, covered elsewhere) is the
 * same call written here with kiln's API, run eagerly and under `jit` on the reference device and
 * on WebGPU, compared leaf by leaf. Random draws compare bit for bit (they are integer hashes turned
 * into floats the way JAX does). Cases kiln does not compute yet are listed in NOT_YET with the
 * reason, and the test checks those functions are absent from the namespace (no call can compute
 * something wrong); REFUSED cases exist and must throw a KilnError naming this file. Gradients of the new differentiable functions are checked against
 * central finite differences in float64 JS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, KilnError, lax, nn, np, random, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';
import { compare, loadFixture, toKiln } from '../helpers/jax-fixtures.js';

const fixture = loadFixture('test/fixtures/jax/library.json');

type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** gen_library.py's RANDOM_NEW: each draw of `shape` (the multinomial's outcomes after it). */
const RANDOM_NEW: Record<string, (k: KArray, shape: number[]) => KArray> = {
  binomial: (k, s) => random.binomial(k, 5, 0.3, s),
  'binomial:btrs': (k, s) => random.binomial(k, 100, 0.4, s),
  'binomial:highP': (k, s) => random.binomial(k, 30, 0.8, s),
  f: (k, s) => random.f(k, 3, 5, s),
  generalizedNormal: (k, s) => random.generalizedNormal(k, 1.5, s),
  loggamma: (k, s) => random.loggamma(k, 2.5, s),
  'loggamma:small': (k, s) => random.loggamma(k, 0.2, s),
  multinomial: (k, s) => random.multinomial(k, 20, np.array([0.2, 0.3, 0.5]), [...s, 3]),
  wald: (k, s) => random.wald(k, 1.5, s),
};

// ---- the same calls in kiln ------------------------------------------------------------------
const cases: Record<string, Fn> = {
  // lax and nn names that had no case of their own.
  ...Object.fromEntries((['neg', 'sign', 'expm1', 'sin', 'cos', 'tan', 'tanh', 'sinh', 'cosh', 'atan', 'asinh', 'floor', 'ceil', 'round',
    'isFinite', 'asin', 'acos', 'atanh', 'log1p', 'rsqrt', 'acosh', 'bitwiseNot'] as const).map((n) => [`lax.${n}`, (x: KArray) => (lax[n] as (x: KArray) => KArray)(x)])),
  ...Object.fromEntries((['sub', 'mul', 'div', 'rem', 'pow', 'atan2', 'bitwiseAnd', 'bitwiseOr', 'bitwiseXor', 'shiftLeft', 'shiftRightArithmetic'] as const)
    .map((n) => [`lax.${n}`, (x: KArray, y: KArray) => (lax[n] as (x: KArray, y: KArray) => KArray)(x, y)])),
  'lax.dot': (a, b) => lax.dot(a, b),
  'lax.foriLoop': (a) => lax.foriLoop(0, 4, (i: KArray, x: KArray) => np.add(np.multiply(x, 0.5), i), a),
  'lax.whileLoop': (a) => lax.whileLoop(([, i]: KArray[]) => np.less(i, 5), ([x, i]: KArray[]) => [np.add(np.sin(x), 1), np.add(i, 1)], [a, np.array(0, { dtype: 'int32' })]),
  'lax.scan': (a) => lax.scan((c: KArray, x: KArray) => [np.add(c, x), np.multiply(c, x)], np.zeros([4]), a),
  'lax.scan:reverse': (a) => lax.scan((c: KArray, x: KArray) => [np.add(np.multiply(c, 0.5), x), np.sum(c)], np.ones([4]), a, { reverse: true }),
  'lax.map': (a) => lax.map((r: KArray) => np.sum(np.square(r)), a),
  'lax.cond': (a) => lax.cond(np.greater(np.sum(a), 0), (x: KArray) => np.multiply(x, 2), (x: KArray) => np.subtract(x, 1), a),
  'lax.cond:false': (a) => lax.cond(np.greater(np.sum(a), 100), (x: KArray) => np.multiply(x, 2), (x: KArray) => np.subtract(x, 1), a),
  'lax.switch': (a, i) => lax.switch(i, [(x: KArray) => np.add(x, 1), (x: KArray) => np.multiply(x, 2), (x: KArray) => np.negative(x)], a),
  'lax.switch:clamped': (a, i) => lax.switch(i, [(x: KArray) => np.add(x, 1), (x: KArray) => np.multiply(x, 2), (x: KArray) => np.negative(x)], a),
  'lax.associativeScan': (a) => lax.associativeScan(np.add, a, { axis: 1 }),
  'lax.associativeScan:reverse': (a) => lax.associativeScan(np.maximum, a, { reverse: true }),
  'lax.stopGradient': (a) => grad((x: KArray) => np.sum(np.multiply(x, lax.stopGradient(x))))(a),
  'nn.relu': (x) => nn.relu(x),
  'nn.sigmoid': (x) => nn.sigmoid(x),
  'nn.softmax': (x) => nn.softmax(x),
  'nn.softmax:axis0': (x) => nn.softmax(x, 0),
  'nn.logSoftmax': (x) => nn.logSoftmax(x),
  'nn.identity': (x) => nn.identity(x),
  'nn.leakyRelu': (x) => nn.leakyRelu(x),
  'nn.leakyRelu:slope': (x) => nn.leakyRelu(x, 0.2),
  'nn.elu': (x) => nn.elu(x),
  'nn.selu': (x) => nn.selu(x),
  'nn.celu': (x) => nn.celu(x),
  'nn.celu:alpha': (x) => nn.celu(x, 0.5),
  'nn.mish': (x) => nn.mish(x),
  'nn.logSigmoid': (x) => nn.logSigmoid(x),
  'nn.swish': (x) => nn.swish(x),
  'nn.hardTanh': (x) => nn.hardTanh(x),
  'nn.relu6': (x) => nn.relu6(x),
  'nn.hardSigmoid': (x) => nn.hardSigmoid(x),
  'nn.hardSilu': (x) => nn.hardSilu(x),
  'nn.hardSwish': (x) => nn.hardSwish(x),
  'nn.softSign': (x) => nn.softSign(x),
  'nn.squareplus': (x) => nn.squareplus(x),
  'nn.sparsePlus': (x) => nn.sparsePlus(x),
  'nn.sparseSigmoid': (x) => nn.sparseSigmoid(x),
  'nn.gelu:exact': (x) => nn.gelu(x, false),
  'nn.gelu:tanh': (x) => nn.gelu(x),
  'nn.standardize': (x) => nn.standardize(x),
  'nn.glu': (x) => nn.glu(x),
  'nn.log1mexp': (x) => nn.log1mexp(np.abs(x).add(0.1)),
  'nn.logmeanexp': (x) => nn.logmeanexp(x, 1),
  'nn.silu': (x) => nn.silu(x),
  'nn.softplus': (x) => nn.softplus(x),
  'nn.oneHot': (l) => nn.oneHot(l, 5),
  'nn.dotProductAttention': (q, k, v) => nn.dotProductAttention(q, k, v),
  'nn.dotProductAttention:causal': (q, k, v) => nn.dotProductAttention(q, k.slice([], [0, 4]), v.slice([], [0, 4]), { isCausal: true }),
  'nn.dotProductAttention:mask': (q, k, v, m) => nn.dotProductAttention(q, k, v, { mask: m }),
  'nn.dotProductAttention:bias': (q, k, v, b) => nn.dotProductAttention(q, k, v, b),
  'nn.dotProductAttention:gqa': (q, k, v) => nn.dotProductAttention(q, k, v),
  // random: bit-exact with JAX's threefry (partitionable), key [0, 0] unless said
  'random.config': () => np.array(Int32Array.from([1])),
  'random.key': () => random.key(1234),
  'random.split': (k) => random.split(k, 3),
  'random.foldIn': (k) => random.foldIn(k, 7),
  'random.bits': (k) => random.bits(k, [7]),
  'random.uniform': (k) => random.uniform(k, [2, 5]),
  'random.normal': (k) => random.normal(k, [2, 5]),
  'random.bernoulli': (k) => random.bernoulli(k, 0.3, [10]),
  'random.randint': (k) => random.randint(k, [10], -3, 9),
  'random.permutation': (k) => random.permutation(k, 8),
  'random.categorical': (k) => random.categorical(k, np.log(np.array([0.1, 0.2, 0.7])), { shape: [8] }),
  'random.choice': (k) => random.choice(k, 10, [4], false),
  'random.choice:replace': (k) => random.choice(k, 10, [6]),
  'random.gumbel': (k) => random.gumbel(k, [6]),
  'random.exponential': (k) => random.exponential(k, [6]),
  'random.truncatedNormal': (k) => random.truncatedNormal(k, -1, 1.5, [6]),
  'random.laplace': (k) => random.laplace(k, [6]),
  'random.logistic': (k) => random.logistic(k, [6]),
  'random.cauchy': (k) => random.cauchy(k, [6]),
  'random.rademacher': (k) => random.rademacher(k, [6]),
  'random.maxwell': (k) => random.maxwell(k, [6]),
  'random.doubleSidedMaxwell': (k) => random.doubleSidedMaxwell(k, 0, 1, [6]),
  'random.pareto': (k) => random.pareto(k, 3, [6]),
  'random.weibullMin': (k) => random.weibullMin(k, 1, 2, [6]),
  'random.rayleigh': (k) => random.rayleigh(k, 1, [6]),
  'random.lognormal': (k) => random.lognormal(k, 0.5, [6]),
  'random.geometric': (k) => random.geometric(k, 0.3, [6]),
  'nn.initializers.glorotNormal': (k) => nn.initializers.glorotNormal()(k, [4, 3], 'float32'),
  'nn.initializers.glorotUniform': (k) => nn.initializers.glorotUniform()(k, [4, 3], 'float32'),
  'nn.initializers.heNormal': (k) => nn.initializers.heNormal()(k, [4, 3], 'float32'),
  'nn.initializers.heUniform': (k) => nn.initializers.heUniform()(k, [4, 3], 'float32'),
  'nn.initializers.lecunNormal': (k) => nn.initializers.lecunNormal()(k, [4, 3], 'float32'),
  'nn.initializers.lecunUniform': (k) => nn.initializers.lecunUniform()(k, [4, 3], 'float32'),
  'nn.initializers.normal': (k) => nn.initializers.normal(0.02)(k, [4, 3], 'float32'),
  'nn.initializers.uniform': (k) => nn.initializers.uniform(0.1)(k, [4, 3], 'float32'),
  'nn.initializers.truncatedNormal': (k) => nn.initializers.truncatedNormal(0.5)(k, [4, 3], 'float32'),
  'nn.initializers.zeros': (k) => nn.initializers.zeros(k, [4, 3], 'float32'),
  'nn.initializers.ones': (k) => nn.initializers.ones(k, [4, 3], 'float32'),
  'lax.dotGeneral': (a, b) => lax.dotGeneral(a, b, [[[2], [1]], [[0], [0]]]),
  'lax.topK': (a) => lax.topK(a, 2),
  'lax.sort:multi': (a, b) => lax.sort([a, b], 0, { numKeys: 1 }),
  'lax.cumsum': (a) => lax.cumsum(a, 1),
  'lax.cumsum:reverse': (a) => lax.cumsum(a, 0, true),
  'lax.cumprod': (a) => lax.cumprod(a, 1),
  'lax.cummax': (a) => lax.cummax(a, 1),
  'lax.cummin': (a) => lax.cummin(a, 0),
  'lax.cumlogsumexp': (a) => lax.cumlogsumexp(a, 1),
  'lax.reducePrecision': (a) => lax.reducePrecision(a, 5, 10),
  'lax.bitcastConvertType': (a) => lax.bitcastConvertType(a, 'int32'),
  'lax.erf': (a) => lax.erf(a),
  'lax.erfc': (a) => lax.erfc(a),
  'lax.erfInv': (a) => lax.erfInv(a),
  'lax.lgamma': (a) => lax.lgamma(a),
  'lax.digamma': (a) => lax.digamma(a),
  'lax.clamp': (a) => lax.clamp(-0.5, a, 0.5),
  'lax.iota': () => lax.iota('int32', 5),
  'lax.broadcastInDim': (a) => lax.broadcastInDim(a, [2, 4, 3], [2]),
  'lax.shiftRightLogical': (a, b) => lax.shiftRightLogical(a, b),
  'lax.populationCount': (a) => lax.populationCount(a),
  'lax.clz': (a) => lax.clz(a),
  'random.multivariateNormal': (k) => random.multivariateNormal(k, np.zeros([2]), np.array(Float32Array.from([2, 0.5, 0.5, 1]), { shape: [2, 2] }), [3]),
  'random.triangular': (k) => random.triangular(k, 0, 0.3, 1, [6]),
  'random.gamma': (k) => random.gamma(k, 2.5, [6]),
  'random.beta': (k) => random.beta(k, 2, 3, [6]),
  'random.dirichlet': (k) => random.dirichlet(k, np.array([1, 2, 3]), [2]),
  'random.t': (k) => random.t(k, 5, [6]),
  'random.chisquare': (k) => random.chisquare(k, 3, [6]),
  'random.ball': (k) => random.ball(k, 3, 2, [4]),
  'random.poisson': (k) => random.poisson(k, 4, [6]),
  'lax.igamma': (a, x) => lax.igamma(a, x),
  // issue 12: the exported names that had no case of their own.
  ...Object.fromEntries((['abs', 'cbrt', 'exp', 'log', 'logistic', 'sqrt', 'square', 'real', 'imag', 'conj'] as const)
    .map((n) => [`lax.${n}`, (x: KArray) => (lax[n] as (x: KArray) => KArray)(x)])),
  ...Object.fromEntries((['add', 'max', 'min', 'complex', 'igammac', 'igammaGradA', 'randomGammaGrad'] as const)
    .map((n) => [`lax.${n}`, (x: KArray, y: KArray) => (lax[n] as (x: KArray, y: KArray) => KArray)(x, y)])),
  'nn.logsumexp': (a) => nn.logsumexp(a),
  'nn.logsumexp:axis': (a) => nn.logsumexp(a, { axis: 1, keepdims: true }),
  // jax.nn has neither: the fixture is the JAX expression kiln implements (gen_library.py says which).
  'nn.layerNorm': (x) => nn.layerNorm(x),
  'nn.layerNorm:affine': (x, g, b) => nn.layerNorm(x, g, b),
  'nn.layerNorm:axes': (x) => nn.layerNorm(x, null, null, { axis: [1, 2], eps: 1e-3 }),
  'nn.crossEntropy': (l, y) => nn.crossEntropy(l, y),
  'nn.crossEntropy:probs': (l, t) => nn.crossEntropy(l, t),
  'nn.initializers.constant': (k) => nn.initializers.constant(0.3)(k, [4, 3], 'float32'),
  'nn.initializers.kaimingNormal': (k) => nn.initializers.kaimingNormal()(k, [4, 3], 'float32'),
  'nn.initializers.kaimingUniform': (k) => nn.initializers.kaimingUniform()(k, [4, 3], 'float32'),
  'nn.initializers.xavierNormal': (k) => nn.initializers.xavierNormal()(k, [4, 3], 'float32'),
  'nn.initializers.xavierUniform': (k) => nn.initializers.xavierUniform()(k, [4, 3], 'float32'),
  'nn.initializers.varianceScaling': (k) => nn.initializers.varianceScaling(2, 'fanOut', 'normal')(k, [4, 3], 'float32'),
  'nn.initializers.varianceScaling:uniform': (k) => nn.initializers.varianceScaling(0.5, 'fanAvg', 'uniform')(k, [4, 3], 'float32'),
  'nn.initializers.varianceScaling:truncated': (k) => nn.initializers.varianceScaling(1.5, 'fanIn', 'truncatedNormal')(k, [4, 3], 'float32'),
  'nn.initializers.varianceScaling:conv': (k) => nn.initializers.varianceScaling(1, 'fanIn', 'normal')(k, [3, 3, 2, 4], 'float32'),
  // random, bit-exact with JAX 0.11 (kiln follows jax/_src/random.py's samplers and key splits).
  ...Object.fromEntries(Object.entries(RANDOM_NEW).map(([n, f]) => [`random.${n}`, (k: KArray) => f(k, [6])])),
  'random.orthogonal': (k) => random.orthogonal(k, 3),
  'nn.initializers.orthogonal': (k) => nn.initializers.orthogonal()(k, [4, 3], 'float32'),
};

/** Fixture cases outside this file's namespaces or covered by other test files. */
const ELSEWHERE = /^(lax\.(conv|dynamic|segment|reduceWindow|gather|scatter|linalg\.)|nn\.(maxPool|avgPool))/;

/** Large-sample cases (`random.<name>:moments`): JAX's mean, variance and 10/50/90% quantiles of 20000 draws. */
const MOMENTS = /^random\..*:moments$/;

/** Refused with a KilnError until the missing piece exists (the case name, the reason). */
const REFUSED: Record<string, [() => unknown, string]> = {};

/** Fixture cases of these namespaces kiln does not compute yet, with the reason. */
const NOT_YET: Record<string, string> = {};

/** The function a case name calls (`random.gamma`, `nn.initializers.normal`, `lax.sort:multi`). */
function lookup(name: string): unknown {
  const path = name.replace(/:.*$/, '').split('.');
  let v: unknown = { nn, random, lax };
  for (const k of path) v = v === undefined ? undefined : (v as Record<string, unknown>)[k];
  return v;
}

const MINE = Object.keys(fixture.cases).filter((n) => /^(nn|random|lax)\./.test(n) && !ELSEWHERE.test(n) && !MOMENTS.test(n));

describe('JAX fixtures: nn, nn.initializers, random, lax', () => {
  it('every case is written here or listed as not yet computed', () => {
    expect(MINE.filter((n) => !(n in cases) && !(n in NOT_YET) && !(n in REFUSED))).toEqual([]);
    expect(Object.keys(cases).filter((n) => !(n in fixture.cases))).toEqual([]);
    expect(Object.keys(NOT_YET).filter((n) => n in cases)).toEqual([]);
  });

  for (const [name, [f, why]] of Object.entries(REFUSED)) {
    it(`${name} is refused: ${why}`, () => {
      let thrown: unknown;
      try { f(); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(KilnError);
      expect(String((thrown as Error).message)).toMatch(/library-nn-random-lax\.test\.ts:\d+/);
    });
  }

  it('the functions of cases not computed yet do not exist (calling them cannot run wrongly)', () => {
    expect(Object.keys(NOT_YET).filter((n) => lookup(n) !== undefined)).toEqual([]);
  });

  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  for (const name of MINE.filter((n) => n in cases)) {
    it(name, async () => {
      const c = fixture.cases[name];
      for (const [dname, d] of devices) {
        setDefaultDevice(d);
        for (const [mode, g] of [['eager', cases[name]], ['jit', jit(cases[name])]] as [string, Fn][]) {
          await compare(g(...c.inputs.map(toKiln)), c.output!, `${name} (${dname}, ${mode})`);
        }
      }
    });
  }
});

// ---- distributions against a large JAX sample ---------------------------------------------------
/**
 * Whatever the bits, kiln's 2000 draws must be distributed as JAX's 20000 (its sample is the
 * precise one; kiln's is small to keep the reference interpreter's loops fast): the mean within 6
 * standard errors of JAX's (its variance from JAX's sample), and at each of JAX's 10/50/90%
 * quantiles q the fraction of kiln's draws below q at most p + 6 sd and at or below q at least
 * p - 6 sd (so ties of a discrete distribution pass only where they should). A failure here is a
 * wrong distribution, not a lost bit.
 */
describe('random: 2000 draws against the moments and quantiles of JAX\'s 20000', () => {
  const N = 2000;
  beforeAll(() => setDefaultDevice('reference'));
  it('every large-sample case is drawn here', () => {
    const names = Object.keys(fixture.cases).filter((n) => MOMENTS.test(n)).map((n) => n.replace(/^random\.|:moments$/g, ''));
    expect(names.sort()).toEqual(Object.keys(RANDOM_NEW).sort());
  });
  for (const [name, draw] of Object.entries(RANDOM_NEW)) {
    it(name, async () => {
      const c = fixture.cases[`random.${name}:moments`];
      expect(c, `library.json has no case random.${name}:moments: run scripts/jax/gen_library.py`).toBeDefined();
      const [mean, variance, ...qs] = (c.output as { data: number[] }).data.map(Number);
      const all = Array.from(await draw(toKiln(c.inputs[0]) as KArray, [N]).data());
      // The multinomial's first outcome, as the generator records.
      const x = all.length === N ? all : all.filter((_, i) => i % (all.length / N) === 0);
      expect(x.length).toBe(N);
      const m = x.reduce((a, b) => a + b, 0) / N;
      expect(Math.abs(m - mean), `${name}: mean ${m}, JAX ${mean}`).toBeLessThanOrEqual(6 * Math.sqrt(variance / N));
      [0.1, 0.5, 0.9].forEach((p, j) => {
        const sd = Math.sqrt((p * (1 - p)) / N);
        const below = x.filter((v) => v < qs[j]).length / N, atOrBelow = x.filter((v) => v <= qs[j]).length / N;
        expect(below, `${name}: P(x < ${qs[j]}) = ${below}, JAX's ${p} quantile`).toBeLessThanOrEqual(p + 6 * sd);
        expect(atOrBelow, `${name}: P(x <= ${qs[j]}) = ${atOrBelow}, JAX's ${p} quantile`).toBeGreaterThanOrEqual(p - 6 * sd);
      });
    });
  }
});

// ---- gradients against central finite differences -------------------------------------------
/** Points away from every function's kinks (-3, -1, 0, 1, 3). */
const POINTS = [-3.7, -2.2, -1.4, -0.6, -0.3, 0.2, 0.45, 0.8, 1.3, 2.6, 3.4];

async function checkGrad(name: string, f: (x: KArray) => KArray, points = POINTS): Promise<void> {
  const x = np.array(Float32Array.from(points));
  const loss = (v: KArray) => np.sum(f(v).mul(np.arange(1, points.length + 1)));
  const g = Array.from(await (grad(loss)(x) as KArray).data());
  for (let i = 0; i < points.length; i++) {
    const h = 1e-2;
    const at = async (d: number) => (await loss(np.array(Float32Array.from(points.map((p, j) => (j === i ? p + d : p))))).data())[0];
    const fd = ((await at(h)) - (await at(-h))) / (2 * h);
    expect(Math.abs(g[i] - fd), `${name}'(${points[i]}): grad ${g[i]}, finite differences ${fd}`).toBeLessThanOrEqual(1e-2 + 1e-2 * Math.abs(fd));
  }
}

describe('gradients of the new nn functions', () => {
  const unary: Record<string, (x: KArray) => KArray> = {
    leakyRelu: (x) => nn.leakyRelu(x, 0.2), elu: (x) => nn.elu(x), selu: (x) => nn.selu(x), celu: (x) => nn.celu(x, 0.5),
    mish: (x) => nn.mish(x), logSigmoid: (x) => nn.logSigmoid(x), hardTanh: (x) => nn.hardTanh(x), relu6: (x) => nn.relu6(x.mul(2)),
    hardSigmoid: (x) => nn.hardSigmoid(x), hardSilu: (x) => nn.hardSilu(x), softSign: (x) => nn.softSign(x),
    squareplus: (x) => nn.squareplus(x), sparsePlus: (x) => nn.sparsePlus(x), sparseSigmoid: (x) => nn.sparseSigmoid(x),
    log1mexp: (x) => nn.log1mexp(np.abs(x).add(0.1)), logmeanexp: (x) => nn.logmeanexp(x).mul(x),
    standardize: (x) => nn.standardize(x.reshape([1, -1])).reshape([-1]).mul(x), glu: (x) => nn.glu(x.slice([0, 10])).sum().mul(x),
    'lax.digamma': (x) => lax.digamma(np.abs(x).add(0.3)), 'lax.lgamma': (x) => lax.lgamma(np.abs(x).add(0.3)),
    'lax.digamma (negative, reflected)': (x) => lax.digamma(np.abs(x).mul(-0.1).add(-0.3)),
    'lax.cumlogsumexp': (x) => lax.cumlogsumexp(x).mul(x), 'lax.cumprod': (x) => lax.cumprod(x.mul(0.5)),
    'lax.abs': (x) => lax.abs(x), 'lax.cbrt': (x) => lax.cbrt(x), 'lax.exp': (x) => lax.exp(x.mul(0.5)),
    'lax.log': (x) => lax.log(np.abs(x).add(0.3)), 'lax.logistic': (x) => lax.logistic(x), 'lax.sqrt': (x) => lax.sqrt(np.abs(x).add(0.3)),
    'lax.square': (x) => lax.square(x), 'lax.add': (x) => lax.add(x, np.sin(x)), 'lax.max': (x) => lax.max(x, np.cos(x)),
    'lax.min': (x) => lax.min(x, np.full([POINTS.length], 0.5)),
    'lax.igammac (a)': (x) => lax.igammac(np.abs(x).add(0.5), np.full([POINTS.length], 1.5)),
    'lax.igammac (x)': (x) => lax.igammac(np.full([POINTS.length], 1.5), np.abs(x).add(0.3)),
    'nn.logsumexp': (x) => nn.logsumexp(x).mul(x), 'nn.layerNorm': (x) => nn.layerNorm(x),
    'nn.crossEntropy': (x) => nn.crossEntropy(x.reshape([1, -1]), np.array(Int32Array.from([3]))).mul(x),
    attention: (x) => {
      const q = x.slice([0, 8]).reshape([1, 2, 2, 2]);
      return nn.dotProductAttention(q, q.mul(0.5), q.mul(q), { isCausal: true }).sum().mul(x);
    },
  };
  beforeAll(() => setDefaultDevice('reference'));
  for (const [name, f] of Object.entries(unary)) it(name, () => checkGrad(name, f));
});

describe('nn refusals', () => {
  it('glu of an odd axis, attention with mismatched heads, a float mask: KilnErrors naming this file', () => {
    const bad: (() => unknown)[] = [
      () => nn.glu(np.ones([3])),
      () => nn.dotProductAttention(np.ones([1, 2, 3, 4]), np.ones([1, 2, 2, 4]), np.ones([1, 2, 2, 4])),
      () => nn.dotProductAttention(np.ones([1, 2, 2, 4]), np.ones([1, 2, 2, 4]), np.ones([1, 2, 2, 4]), { mask: np.ones([2, 2]) }),
    ];
    for (const f of bad) {
      let thrown: unknown;
      try { f(); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(KilnError);
      expect(String((thrown as Error).message)).toMatch(/library-nn-random-lax\.test\.ts:\d+/);
    }
  });
});
