#!/usr/bin/env python3
"""The bench's workloads through JAX (XLA) on the GPU, for `npm run bench -- --xla`.

bench/xla.ts spawns this in a child process, sequentially with kiln and jax-js (never at the same
time on the GPU), and merges the JSON it writes into the bench's rows. Every workload of
bench/workloads.ts is written here once more in JAX's own idiom (jax.jit, jnp, jax.nn,
jax.value_and_grad), with the same shapes and dtypes (f32; f16 for matmul_f16) and the same input bytes: the inputs come
from a vectorised numpy version of the bench's seeded xorshift generator (bench/host.ts `uniform`),
so XLA's outputs can be checked against the same float64 references as kiln's and jax-js's.

Per case:
- xla_ms: wall time of one sample (the case's calls, then block_until_ready), median over the
  samples after the warm-up (at least `--warmup` calls, and `--warmup-ms` of them, like the bench).
- xla_b2b_ms: 50 calls queued back to back, one wait, divided by 50 (median over the samples).
- matmul_f16: f16 inputs (the bench's values rounded to f16) at DEFAULT precision, i.e. tensor
  cores with f32 accumulation, and an f16 output.
- f32 matmuls run at precision=HIGHEST (true f32, as kiln and jax-js compute); the matmul rows are
  also timed at DEFAULT precision (TF32 on Ampere and later) as xla_default_ms / xla_default_b2b_ms.
- outputs: the first call's outputs: shape, float64 sum and sum of |x|, the first values, and the
  whole array (base64 little-endian f32) when all outputs together are small.

Without JAX (or with JAX but no GPU backend) it writes {"unavailable": "<why>"} and exits 0: the
bench shows the XLA columns as null with that reason. Usage:

  python3 bench/xla.py --out FILE [--sizes smoke|full] [--only a,b] [--reps N] [--warmup N]
                       [--warmup-ms N] [--calls N] [--allow-cpu]
"""

import argparse
import base64
import json
import math
import statistics
import sys
import time
import traceback

import numpy as np

B2B_CALLS = 50
# Outputs with at most this many elements in all are written whole (the smoke sizes).
FULL_OUTPUT_LIMIT = 1 << 21
LR = 0.01

# ---- inputs: the bench's generator (bench/host.ts), vectorised ----------------------------------


def _xorshift_step(x):
    x = x ^ (x << np.uint32(13))
    x = x ^ (x >> np.uint32(17))
    return x ^ (x << np.uint32(5))


def _tables(cols):
    """Byte lookup tables of the GF(2)-linear map whose image of bit b is cols[b]."""
    tabs = []
    for j in range(4):
        t = np.zeros(256, dtype=np.uint32)
        v = np.arange(256)
        for b in range(8):
            t[(v >> b) & 1 == 1] ^= cols[8 * j + b]
        tabs.append(t)
    return tabs


def _apply(cols, x):
    t0, t1, t2, t3 = _tables(cols)
    return t0[x & 0xFF] ^ t1[(x >> np.uint32(8)) & 0xFF] ^ t2[(x >> np.uint32(16)) & 0xFF] ^ t3[x >> np.uint32(24)]


def xorshift_states(seed, n):
    """The xorshift32 states after 1..n steps from the bench's seed (the step is linear over GF(2),
    so state[i + L] = M^L state[i]: the list doubles in length with one table lookup per element)."""
    s0 = (seed * 0x9E3779B1) % 2**32 or 1
    states = _xorshift_step(np.array([s0], dtype=np.uint32))
    step = _xorshift_step(np.uint32(1) << np.arange(32, dtype=np.uint32))  # columns of M
    power = step  # columns of M^len(states)
    while states.size < n:
        states = np.concatenate([states, _apply(power, states)])
        power = _apply(power, power)
    return states[:n]


def uniform(shape, seed, lo=-1.0, hi=1.0):
    """bench/host.ts `uniform`: the same float32 values (lo + span * s / 2^32 in float64, rounded)."""
    n = math.prod(shape)
    s = xorshift_states(seed, n)
    span = hi - lo
    return (lo + span * (s.astype(np.float64) / 4294967296.0)).astype(np.float32).reshape(shape)


def causal_mask(t):
    return np.triu(np.full((t, t), -1e9, dtype=np.float32), k=1)


# ---- workloads (bench/workloads.ts), in JAX's idiom ---------------------------------------------


class Case:
    def __init__(self, workload, size, inputs, build, calls_per_sample=1, matmul=False):
        self.workload = workload
        self.size = size
        self.inputs = inputs  # () -> list of numpy arrays
        self.build = build  # (jax, precision) -> jitted function returning a tuple
        self.calls_per_sample = calls_per_sample
        self.matmul = matmul  # also timed at DEFAULT precision


def cases(sizes):
    full = sizes == "full"
    out = []
    for n in ([1024, 2048, 4096] if full else [128, 256]):
        out.append(Case("matmul", f"{n}x{n}x{n}", lambda n=n: [uniform([n, n], 1), uniform([n, n], 2)],
                        lambda jax, p: jax.jit(lambda x, y: (jax.numpy.matmul(x, y, precision=p),)), matmul=True))
    # f16 inputs and output at DEFAULT precision (tensor cores, f32 accumulation), as kiln's and jax-js's.
    for n in ([2048, 4096] if full else [256]):
        out.append(Case("matmul_f16", f"{n}x{n}x{n}",
                        lambda n=n: [uniform([n, n], 1).astype(np.float16), uniform([n, n], 2).astype(np.float16)],
                        lambda jax, p: jax.jit(lambda x, y: (jax.numpy.matmul(x, y),))))
    # Every lambda binds the sizes it uses as default arguments: Python closures see a name's last value.
    b, n = (32, 512) if full else (4, 64)
    out.append(Case("batched_matmul", f"{b}x{n}x{n}x{n}", lambda b=b, n=n: [uniform([b, n, n], 3), uniform([b, n, n], 4)],
                    lambda jax, p: jax.jit(lambda x, y: (jax.numpy.matmul(x, y, precision=p),)), matmul=True))
    n = (64 if full else 1) << 20
    out.append(Case("elementwise_chain", f"{n >> 20}M", lambda n=n: [uniform([n], 5)],
                    lambda jax, p: jax.jit(lambda v: (jax.numpy.tanh(v * 2 + 1) * 0.5 + v * 0.25,))))
    r, c = (8192, 4096) if full else (256, 512)
    out.append(Case("softmax", f"{r}x{c}", lambda r=r, c=c: [uniform([r, c], 6, -4, 4)],
                    lambda jax, p: jax.jit(lambda v: (jax.nn.softmax(v, axis=-1),))))
    out.append(Case("layernorm", f"{r}x{c}", lambda r=r, c=c: [uniform([r, c], 7, -3, 5), uniform([c], 8, 0.5, 1.5), uniform([c], 9)],
                    lambda jax, p: jax.jit(lambda v, g, bb: (layer_norm(jax, v, g, bb),))))
    d = dict(batch=256, din=1024, hidden=1024, dout=1024) if full else dict(batch=32, din=64, hidden=64, dout=64)
    out.append(Case("mlp_train_step", f"b{d['batch']} h{d['hidden']}", lambda d=d: mlp_inputs(d), mlp_step))
    d = dict(batch=4, seq=512, dim=768, heads=12, ff=3072) if full else dict(batch=2, seq=16, dim=32, heads=2, ff=128)
    out.append(Case("transformer_block", f"b{d['batch']} t{d['seq']} d{d['dim']} h{d['heads']}",
                    lambda d=d: block_inputs(d), lambda jax, p, d=d: block(jax, p, d)))
    out.append(Case("tiny_call", "f32[8]", lambda: [uniform([8], 40)],
                    lambda jax, p: jax.jit(lambda v: (v * 2 + 1,)), calls_per_sample=1000 if full else 100))
    return out


def layer_norm(jax, x, g, b, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = jax.numpy.mean(jax.numpy.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + eps) * g + b


def mlp_inputs(d):
    s1, s2 = 1 / math.sqrt(d["din"]), 1 / math.sqrt(d["hidden"])
    return [uniform([d["din"], d["hidden"]], 10, -s1, s1), uniform([d["hidden"]], 11, -0.1, 0.1),
            uniform([d["hidden"], d["dout"]], 12, -s2, s2), uniform([d["dout"]], 13, -0.1, 0.1),
            uniform([d["batch"], d["din"]], 14), uniform([d["batch"], d["dout"]], 15)]


def mlp_step(jax, p):
    jnp = jax.numpy

    def loss(params, x, y):
        h = jax.nn.relu(jnp.matmul(x, params["w1"], precision=p) + params["b1"])
        out = jnp.matmul(h, params["w2"], precision=p) + params["b2"]
        return jnp.mean(jnp.square(out - y))

    @jax.jit
    def step(w1, b1, w2, b2, x, y):
        params = dict(w1=w1, b1=b1, w2=w2, b2=b2)
        l, g = jax.value_and_grad(loss)(params, x, y)
        new = jax.tree_util.tree_map(lambda w, gw: w - LR * gw, params, g)
        return l, new["w1"], new["b1"], new["w2"], new["b2"]

    return step


BLOCK_PARAMS = ["g1", "be1", "wq", "wk", "wv", "wo", "g2", "be2", "w1", "b1", "w2", "b2"]


def block_inputs(d):
    def w(shape, seed):
        s = 1 / math.sqrt(shape[0])
        return uniform(shape, seed, -s, s)

    dim, ff = d["dim"], d["ff"]
    params = dict(
        g1=uniform([dim], 20, 0.5, 1.5), be1=uniform([dim], 21, -0.1, 0.1),
        wq=w([dim, dim], 22), wk=w([dim, dim], 23), wv=w([dim, dim], 24), wo=w([dim, dim], 25),
        g2=uniform([dim], 26, 0.5, 1.5), be2=uniform([dim], 27, -0.1, 0.1),
        w1=w([dim, ff], 28), b1=uniform([ff], 29, -0.1, 0.1), w2=w([ff, dim], 30), b2=uniform([dim], 31, -0.1, 0.1))
    return [uniform([d["batch"], d["seq"], dim], 32), causal_mask(d["seq"])] + [params[k] for k in BLOCK_PARAMS]


def block(jax, p, d):
    jnp = jax.numpy
    bsz, t, dim, heads = d["batch"], d["seq"], d["dim"], d["heads"]
    dh = dim // heads

    @jax.jit
    def f(x, mask, g1, be1, wq, wk, wv, wo, g2, be2, w1, b1, w2, b2):
        h = layer_norm(jax, x, g1, be1)
        split = lambda m: jnp.matmul(h, m, precision=p).reshape(bsz, t, heads, dh).transpose(0, 2, 1, 3)
        q, k, v = split(wq), split(wk), split(wv)
        scores = jnp.matmul(q, k.transpose(0, 1, 3, 2), precision=p) * (1 / math.sqrt(dh)) + mask
        attn = jnp.matmul(jax.nn.softmax(scores, axis=-1), v, precision=p)
        merged = attn.transpose(0, 2, 1, 3).reshape(bsz, t, dim)
        x1 = x + jnp.matmul(merged, wo, precision=p)
        h2 = layer_norm(jax, x1, g2, be2)
        ff = jnp.matmul(jax.nn.gelu(jnp.matmul(h2, w1, precision=p) + b1, approximate=True), w2, precision=p) + b2
        return (x1 + ff,)

    return f


# ---- timing -------------------------------------------------------------------------------------


def median(xs):
    return statistics.median(xs)


def timed(jax, f, args, calls, reps, warmup, warmup_ms):
    """Median and min ms per call of samples of `calls` queued calls and one wait, after warm-up."""

    def sample():
        out = None
        for _ in range(calls):
            out = f(*args)
        jax.block_until_ready(out)

    t0 = time.perf_counter()
    i = 0
    while i < warmup or ((time.perf_counter() - t0) * 1e3 < warmup_ms and i < 10000):
        sample()
        i += 1
    times = []
    for _ in range(reps):
        s = time.perf_counter()
        sample()
        times.append((time.perf_counter() - s) * 1e3 / calls)
    return median(times), min(times)


def summary(outs):
    arrs = [np.asarray(o, dtype=np.float32) for o in outs]
    whole = sum(a.size for a in arrs) <= FULL_OUTPUT_LIMIT
    res = []
    for a in arrs:
        flat = a.reshape(-1)
        item = dict(shape=list(a.shape), sum=float(flat.astype(np.float64).sum()),
                    abs_sum=float(np.abs(flat.astype(np.float64)).sum()),
                    head=[float(v) for v in flat[:8]])
        if whole:
            item["data"] = base64.b64encode(flat.astype("<f4").tobytes()).decode("ascii")
        res.append(item)
    return res


def run_case(jax, c, opts, log):
    row = dict(workload=c.workload, size=c.size)
    try:
        host = c.inputs()
        args = [jax.device_put(a) for a in host]
        del host
        highest, default = jax.lax.Precision.HIGHEST, jax.lax.Precision.DEFAULT
        f = c.build(jax, highest)
        row["outputs"] = summary(f(*args))
        calls = c.calls_per_sample if c.calls_per_sample > 1 else opts.calls
        row["xla_ms"], row["xla_min_ms"] = timed(jax, f, args, calls, opts.reps, opts.warmup, opts.warmup_ms)
        row["xla_b2b_ms"], _ = timed(jax, f, args, B2B_CALLS, opts.reps, 0, 0)
        if c.matmul:
            g = c.build(jax, default)
            row["xla_default_ms"], _ = timed(jax, g, args, calls, opts.reps, opts.warmup, opts.warmup_ms)
            row["xla_default_b2b_ms"], _ = timed(jax, g, args, B2B_CALLS, opts.reps, 0, 0)
    except Exception as e:  # a row JAX cannot run is a row with its error, not the end of the run
        row["error"] = f"{type(e).__name__}: {e}".split("\n")[0][:500]
        log(traceback.format_exc())
    return row


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sizes", choices=["smoke", "full"], default="full")
    ap.add_argument("--only", default="")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--warmup-ms", type=int, default=None, dest="warmup_ms")
    ap.add_argument("--calls", type=int, default=1)
    ap.add_argument("--allow-cpu", action="store_true", dest="allow_cpu")
    opts = ap.parse_args(argv)
    full = opts.sizes == "full"
    opts.reps = opts.reps if opts.reps is not None else (10 if full else 3)
    opts.warmup = opts.warmup if opts.warmup is not None else (3 if full else 2)
    opts.warmup_ms = opts.warmup_ms if opts.warmup_ms is not None else (1500 if full else 0)
    log = lambda line: print(line, file=sys.stderr, flush=True)

    def write(obj):
        with open(opts.out, "w") as fh:
            json.dump(obj, fh)

    try:
        import jax
    except Exception as e:
        write(dict(unavailable=f"JAX could not be imported by {sys.executable}: {type(e).__name__}: {e}"))
        return 0
    backend = jax.default_backend()
    if backend != "gpu" and not opts.allow_cpu:
        write(dict(unavailable=f"JAX {jax.__version__} has no GPU backend here (default backend: {backend})"))
        return 0
    dev = jax.devices()[0]
    only = [s for s in opts.only.split(",") if s]
    todo = [c for c in cases(opts.sizes) if not only or c.workload in only]
    rows = []
    for i, c in enumerate(todo):
        log(f"xla [{i + 1}/{len(todo)}] {c.workload} {c.size} ...")
        rows.append(run_case(jax, c, opts, log))
        r = rows[-1]
        log(f"    xla {r.get('xla_ms', float('nan')):.3f} ms, back to back {r.get('xla_b2b_ms', float('nan')):.3f} ms" if "error" not in r else f"    xla failed: {r['error']}")
    write(dict(jax=jax.__version__, jaxlib=getattr(__import__("jaxlib"), "__version__", None), backend=backend,
               device=getattr(dev, "device_kind", str(dev)), platform=dev.platform, python=sys.version.split()[0],
               b2b_calls=B2B_CALLS, sizes=opts.sizes, reps=opts.reps, warmup=opts.warmup, warmup_ms=opts.warmup_ms,
               rows=rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
