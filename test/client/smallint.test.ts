/**
 * @file The client on 8- and 16-bit integers: dtype names, np.array of Int8Array / Uint8Array /
 * Int16Array / Uint16Array data, JAX's promotion (ui8 with i8 is i16, ui8 with i32 is i32, a weak
 * int keeps i8), wrap-around, and the image idiom `img.astype(float32) / 255` under jit, on the
 * reference device. Expected values are exact integer arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { jit, np, type Array as KArray } from '../../client/index.js';

const read = async (x: KArray) => Array.from((await x.data()) as ArrayLike<number>);

describe('8- and 16-bit integers in the client', () => {
  it('np.array keeps the typed array dtype; astype names int8, uint8, int16, uint16', async () => {
    expect(np.array(Uint8Array.of(1, 2)).dtype).toBe('ui8');
    expect(np.array(Int8Array.of(1, 2)).dtype).toBe('i8');
    expect(np.array(Int16Array.of(1, 2)).dtype).toBe('i16');
    expect(np.array(Uint16Array.of(1, 2)).dtype).toBe('ui16');
    const x = np.array(Int32Array.of(300, -1, 128));
    expect(await read(x.astype('uint8'))).toEqual([44, 255, 128]);
    expect(await read(x.astype('int8'))).toEqual([44, -1, -128]);
    expect(x.astype('int16').dtype).toBe('i16');
    // A typed array given to an op directly (not through np.array) keeps its dtype too.
    const s = np.add(Uint8Array.of(250, 3), Uint8Array.of(10, 4));
    expect(s.dtype).toBe('ui8');
    expect(await read(s)).toEqual([4, 7]);
  });

  it('promotion follows JAX: ui8+i8 -> i16, ui8+i32 -> i32, ui16+i16 -> i32, i8 + weak int stays i8', async () => {
    const u8 = np.array(Uint8Array.of(200, 255));
    const i8 = np.array(Int8Array.of(-56, 1));
    expect(np.add(u8, i8).dtype).toBe('i16');
    expect(await read(np.add(u8, i8))).toEqual([144, 256]);
    expect(np.add(u8, np.array(Int32Array.of(1, 1))).dtype).toBe('i32');
    expect(np.add(np.array(Uint16Array.of(1)), np.array(Int16Array.of(1))).dtype).toBe('i32');
    const w = np.add(i8, 1);
    expect(w.dtype).toBe('i8');
    // ui8 + ui8 wraps: 200 + 100 = 44.
    expect(await read(np.add(u8, np.array(Uint8Array.of(100, 1))))).toEqual([44, 0]);
  });

  it('np.sum and np.prod of 8/16-bit integers widen first (JAX promote_integers): sum of uint8 [200, 100] is 300 in ui32', async () => {
    const u = np.array(Uint8Array.of(200, 100));
    expect(np.sum(u).dtype).toBe('ui32');
    expect(await read(np.sum(u))).toEqual([300]);
    expect(np.prod(np.array(Int8Array.of(-100, 100))).dtype).toBe('i32');
    expect(await read(np.prod(np.array(Int8Array.of(-100, 100))))).toEqual([-10000]);
    // An explicit dtype is used as given: the sum in uint8 wraps (300 - 256).
    expect(await read(np.sum(u, null, 'uint8'))).toEqual([44]);
  });

  it('img.astype(float32) / 255 under jit', async () => {
    const f = jit((img: KArray) => img.astype('float32').div(255));
    const out = f(np.array(Uint8Array.of(0, 51, 255))) as KArray;
    expect(out.dtype).toBe('f32');
    expect(await read(out)).toEqual([0, Math.fround(51 / 255), 1]);
  });
});
