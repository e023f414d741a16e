/**
 * @file Weight files against the tools that define them: `.npz`/`.npy` written and read by real
 * NumPy (Debian's python3-numpy; its `savez` writes ZIP64 entries), `.safetensors` built and read
 * by an independent Python writer/reader that follows the format's spec (header length, JSON
 * header, raw little-endian data). Expected values are NumPy's own conversions. Then `load`/`save`
 * of pytrees, and `kiln run --weights`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { load, np, save, type Array as KArray } from '../../client/index.js';
import { InputError } from '../../ir/errors.js';
import { readWeights, writeWeights } from '../../runtime/formats/index.js';
import { hostTensor } from '../../runtime/tensor.js';
import { CORPUS_DIR, loadCase, mismatch } from '../helpers/corpus.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'kiln-weights-'));
const python = async (code: string, ...args: string[]) => (await exec('/usr/bin/python3', ['-c', code, ...args])).stdout;

/** Arrays of every type NumPy and safetensors files hold, and what kiln must read them as. */
const MAKE = String.raw`
import numpy as np
arrays = {
  'f64': np.array([[1.0 / 3, -2.5e-8], [1e30, -0.0]], np.float64),
  'f32': np.array([1.5, -np.inf, np.nan], np.float32),
  'f16': np.array([0.1, 65504, -1e-4], np.float16),
  'i64': np.array([-2**31, 2**31 - 1, 7], np.int64),
  'i16': np.array([-32768, 12], np.int16),
  'i8': np.array([-128, 127], np.int8),
  'u8': np.array([0, 1, 2, 44, 255], np.uint8),
  'u16': np.array([65535], np.uint16),
  'u32': np.array([4294967295, 3], np.uint32),
  'bool': np.array([[True, False, True]]),
  'scalar': np.float32(2.25),
}
def expected(a):
  a = np.asarray(a)
  kind = {'f': 'f32', 'i': 'i32', 'u': 'ui32', 'b': 'i1'}[a.dtype.kind]
  if a.dtype == np.float16: kind = 'f16'
  conv = {'f32': np.float32, 'f16': np.float32, 'i32': np.int64, 'ui32': np.int64, 'i1': np.int64}[kind]
  vals = [None if v != v else (str(v) if v in (float('inf'), float('-inf')) else v) for v in a.astype(conv).reshape(-1).tolist()]
  return {'dtype': kind, 'shape': list(a.shape), 'data': vals}
`;

function checkAgainst(got: [string, { dtype: string; shape: number[]; data: ArrayLike<number> }][], want: Record<string, { dtype: string; shape: number[]; data: (number | string | null)[] }>): void {
  expect(got.map(([n]) => n).sort()).toEqual(Object.keys(want).sort());
  for (const [name, t] of got) {
    const w = want[name];
    expect({ name, dtype: t.dtype, shape: [...t.shape] }).toEqual({ name, dtype: w.dtype, shape: w.shape });
    const vals = Array.from(t.data);
    w.data.forEach((v, i) => {
      if (v === null) expect(Number.isNaN(vals[i]), `${name}[${i}]`).toBe(true);
      else expect(vals[i], `${name}[${i}]`).toBe(typeof v === 'string' ? Number(v.replace('inf', 'Infinity')) : v);
    });
  }
}

describe('.npz and .npy from NumPy', () => {
  it('reads np.savez and np.savez_compressed archives of every dtype (ZIP64 entries), converting like JAX with x64 off', async () => {
    const out = await python(MAKE + String.raw`
import json, sys
np.savez(sys.argv[1] + '/a.npz', **arrays)
np.savez_compressed(sys.argv[1] + '/c.npz', **arrays)
print(json.dumps({k: expected(v) for k, v in arrays.items()}))
`, dir);
    const want = JSON.parse(out);
    for (const f of ['a.npz', 'c.npz']) {
      const notes: string[] = [];
      const w = await readWeights(join(dir, f));
      notes.push(...w.notes);
      checkAgainst(w.arrays, want);
      expect(notes.join('\n')).toMatch(/float64 rounded to float32: f64/);
      expect(notes.join('\n')).toMatch(/int64 narrowed to int32 \(every value fits\): i64/);
      // The same bytes in memory.
      checkAgainst((await readWeights(readFileSync(join(dir, f)), 'npz')).arrays, want);
    }
  });

  it('reads .npy files NumPy wrote (any numeric dtype) and NumPy reads what kiln writes', async () => {
    const out = await python(MAKE + String.raw`
import json, sys
for k, v in arrays.items(): np.save(sys.argv[1] + '/' + k + '.npy', v)
print(json.dumps({k: expected(v) for k, v in arrays.items()}))
`, dir);
    const want = JSON.parse(out) as Record<string, never>;
    for (const name of Object.keys(want)) {
      const w = await readWeights(join(dir, `${name}.npy`));
      checkAgainst([[name, w.arrays[0][1]]], { [name]: want[name] });
    }
    await writeWeights(join(dir, 'k.npz'), [['w', hostTensor('f32', [2, 2], [1, 2, 3, 4.5])], ['n', hostTensor('i32', [3], [-1, 0, 7])], ['m', hostTensor('i1', [2], [1, 0])]]);
    const back = await python(String.raw`
import sys, numpy as np
z = np.load(sys.argv[1])
print(sorted(z.files), z['w'].dtype, z['w'].tolist(), z['n'].dtype, z['n'].tolist(), z['m'].dtype, z['m'].tolist())
`, join(dir, 'k.npz'));
    expect(back.trim()).toBe("['m', 'n', 'w'] float32 [[1.0, 2.0], [3.0, 4.5]] int32 [-1, 0, 7] bool [True, False]");
  });

  it('refuses an int64 that does not fit 32 bits, naming the array and element', async () => {
    await python('import sys, numpy as np; np.savez(sys.argv[1], big=np.array([1, 2**40], np.int64))', join(dir, 'big.npz'));
    await expect(readWeights(join(dir, 'big.npz'))).rejects.toThrow(/big'?: element 1 is 1099511627776, which does not fit int32/);
  });
});

/** An independent safetensors writer/reader in Python (numpy + json + struct), per the spec. */
const ST = String.raw`
import json, struct, sys
NAMES = {np.float64: 'F64', np.float32: 'F32', np.float16: 'F16', np.int64: 'I64', np.int32: 'I32', np.int16: 'I16',
         np.int8: 'I8', np.uint64: 'U64', np.uint32: 'U32', np.uint16: 'U16', np.uint8: 'U8', np.bool_: 'BOOL'}
def write_st(path, arrays, bf16=()):
  header, blobs, at = {'__metadata__': {'format': 'pt'}}, [], 0
  for k, v in arrays.items():
    if k in bf16:
      raw, name = (np.asarray(v, np.float32).view(np.uint32) >> 16).astype('<u2').tobytes(), 'BF16'
    else:
      raw, name = np.ascontiguousarray(v).tobytes(), NAMES[np.asarray(v).dtype.type]
    header[k] = {'dtype': name, 'shape': list(np.shape(v)), 'data_offsets': [at, at + len(raw)]}
    blobs.append(raw); at += len(raw)
  h = json.dumps(header).encode()
  with open(path, 'wb') as f: f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
def read_st(path):
  b = open(path, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; header = json.loads(b[8:8 + n])
  dt = {'F32': '<f4', 'F16': '<f2', 'I32': '<i4', 'U32': '<u4', 'BOOL': '|b1'}
  return {k: np.frombuffer(b[8 + n + e['data_offsets'][0]: 8 + n + e['data_offsets'][1]], dt[e['dtype']]).reshape(e['shape'])
          for k, e in header.items() if k != '__metadata__'}, header.get('__metadata__')
`;

describe('.safetensors', () => {
  it('reads every safetensors dtype, bf16 widened exactly, metadata kept', async () => {
    const out = await python(MAKE + ST + String.raw`
bf = np.array([1.0, -2.0, 3.140625, 1e-3, 65280.0], np.float32)
arrays['bf16'] = bf
write_st(sys.argv[1], arrays, bf16=('bf16',))
want = {k: expected(v) for k, v in arrays.items()}
want['bf16'] = expected(((bf.view(np.uint32) >> 16) << 16).astype(np.uint32).view(np.float32))
print(json.dumps(want))
`, join(dir, 'all.safetensors'));
    const w = await readWeights(join(dir, 'all.safetensors'));
    checkAgainst(w.arrays, JSON.parse(out));
    expect(w.metadata).toEqual({ format: 'pt' });
  });

  it('writes what an independent reader reads back', async () => {
    await writeWeights(join(dir, 'k.safetensors'), [['a.w', hostTensor('f32', [2, 3], [1, 2, 3, 4, 5, 6.5])], ['b', hostTensor('ui32', [2], [0, 4294967295])], ['h', hostTensor('f16', [1], [0.5])]], { metadata: { by: 'kiln' } });
    const out = await python('import numpy as np\n' + ST + String.raw`
a, meta = read_st(sys.argv[1])
print(meta, {k: (str(v.dtype), v.tolist()) for k, v in sorted(a.items())})
`, join(dir, 'k.safetensors'));
    expect(out.trim()).toBe("{'by': 'kiln'} {'a.w': ('float32', [[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]), 'b': ('uint32', [0, 4294967295]), 'h': ('float16', [0.5])}");
  });

  it('refuses damaged files with an InputError that names the file and the tensor', async () => {
    const good = readFileSync(join(dir, 'k.safetensors'));
    const cases: [string, Uint8Array, RegExp][] = [
      ['short', good.subarray(0, 5), /shorter than its 8-byte header length/],
      ['huge header', Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0, 123]), /header length/],
      ['truncated data', good.subarray(0, good.length - 4), /past the end of the file/],
      ['bad json', (() => { const b = Uint8Array.from(good); b[8] = 0x5b; return b; })(), /not valid JSON|must be a JSON object/],
    ];
    for (const [what, bytes, msg] of cases) {
      await expect(readWeights(bytes, 'safetensors'), what).rejects.toThrow(InputError);
      await expect(readWeights(bytes, 'safetensors'), what).rejects.toThrow(msg);
    }
    const header = (o: object) => { const h = new TextEncoder().encode(JSON.stringify(o)); const b = new Uint8Array(8 + h.length + 8); new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true); b.set(h, 8); return b; };
    await expect(readWeights(header({ x: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }), 'safetensors')).rejects.toThrow(/tensor 'x': dtype "F8_E4M3" is not supported/);
    await expect(readWeights(header({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), 'safetensors')).rejects.toThrow(/tensor 'x': F32\[3\] needs 12 bytes, data_offsets span 8/);
    await expect(readWeights(join(dir, 'nothing.bin'))).rejects.toThrow(/unknown weight format 'bin'/);
  });
});

describe('load and save', () => {
  it('round-trips a pytree through each format, nested back to its structure', async () => {
    const params = { layers: [{ w: np.array([[1, 2], [3, 4]]), b: np.array([0.5, -0.5]) }, { w: np.array([[5], [6]]), b: np.array([1]) }], steps: np.array(Int32Array.from([12])) };
    for (const ext of ['safetensors', 'npz']) {
      const path = join(dir, `params.${ext}`);
      await save(path, params);
      const flat = await load(path);
      expect(Object.keys(flat).sort()).toEqual(['layers.0.b', 'layers.0.w', 'layers.1.b', 'layers.1.w', 'steps']);
      const nested = await load(path, { nested: true }) as { layers: { w: KArray; b: KArray }[]; steps: KArray };
      expect(nested.layers).toHaveLength(2);
      expect(await nested.layers[1].w.toList()).toEqual([[5], [6]]);
      expect(await nested.layers[0].b.toList()).toEqual([0.5, -0.5]);
      expect(nested.steps.dtype).toBe('i32');
    }
    await save(join(dir, 'one.npy'), np.array([3, 4]));
    expect(await ((await load(join(dir, 'one.npy'))).array as KArray).toList()).toEqual([3, 4]);
    await expect(save(join(dir, 'two.npy'), params)).rejects.toThrow(/a \.npy file holds one array, got 5/);
    await expect(save(join(dir, 'bad.safetensors'), { 'a.b': np.array([1]) })).rejects.toThrow(/key 'a.b' contains '.'/);
  });

  it('reports narrowing conversions once through onNotice', async () => {
    const notes: string[] = [];
    await load(join(dir, 'a.npz'), { onNotice: (m) => notes.push(m) });
    expect(notes).toHaveLength(2);
  });
});

describe('kiln run --weights', () => {
  it('binds the leading arguments from a safetensors file and the rest from --inputs', async () => {
    const c = loadCase('mlp_forward');
    // mlp_forward(x, w1, b1, w2, b2)? Bind all but the first from weights when the order allows:
    // here the weights are the whole argument list, in order.
    await writeWeights(join(dir, 'mlp.safetensors'), c.inputs.map((t, i): [string, typeof t] => [`arg${i}`, t]));
    const out = join(dir, 'mlp-out.json');
    await exec(process.execPath, ['dist/cli.js', 'run', join(CORPUS_DIR, 'mlp_forward.mlir'), '--weights', join(dir, 'mlp.safetensors'), '--out', out, '--device', 'reference']);
    const got = JSON.parse(readFileSync(out, 'utf8')).outputs[0];
    const { fromJson } = await import('../../runtime/tensor.js');
    expect(mismatch(fromJson(got), c.outputs[0])).toBeUndefined();
    // A type mismatch names the argument and the array.
    await writeWeights(join(dir, 'wrong.safetensors'), [['w', hostTensor('f32', [1], [1])]]);
    writeFileSync(join(dir, 'rest.json'), JSON.stringify({ inputs: c.inputs.slice(1).map((t) => ({ dtype: t.dtype, shape: t.shape, data: Array.from(t.data) })) }));
    const r = await exec(process.execPath, ['dist/cli.js', 'run', join(CORPUS_DIR, 'mlp_forward.mlir'), '--weights', join(dir, 'wrong.safetensors'), '--inputs', join(dir, 'rest.json'), '--device', 'reference']).catch((e) => e);
    expect(r.stderr).toMatch(/argument 0 is tensor<.*> but w is tensor<1xf32>/);
  });
});
