/**
 * @file The dashboard page's pure parts under Node: the highlighter (lossless on every corpus
 * program, tokens classed as a reader expects), the chart, the playground's tensor text, and the
 * kernel timing table's rows.
 */
import { describe, expect, it } from 'vitest';
import { chartSvg, niceMax } from '../../server/dashboard/page/chart.js';
import { escapeHtml, highlight, highlightLines, tokenize, type TokenClass } from '../../server/dashboard/page/highlight.js';
import { formatShare, kernelRows } from '../../server/dashboard/page/kernels.js';
import { compareTensors, formatTensor, inputsText, parseInputs, zeroInputs } from '../../server/dashboard/page/tensors.js';
import { hostTensor, toJson, narrowData } from '../../runtime/tensor.js';
import { corpusNames, loadCase } from '../helpers/corpus.js';

const classOf = (text: string, lang: 'mlir' | 'wgsl' | 'json', token: string): TokenClass | undefined =>
  tokenize(text, lang).find((t) => t.text === token)?.cls;

const unescape = (html: string) =>
  html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

describe('highlighter', () => {
  it.each(corpusNames())('keeps every character of %s and its line count', (name) => {
    const { text } = loadCase(name);
    expect(tokenize(text, 'mlir').map((t) => t.text).join('')).toBe(text);
    const lines = highlightLines(text, 'mlir');
    expect(lines).toHaveLength(text.split('\n').length);
    expect(unescape(lines.join('\n'))).toBe(text);
  });

  it('classes StableHLO tokens', () => {
    const ir = '%0 = stablehlo.add %arg0, %1#1 : tensor<8x16xf32> // sum\n  return %0 : tensor<f32>\n  call @f(%x) {jax.result_info = "result"} loc(#loc3)';
    expect(classOf(ir, 'mlir', '%0')).toBe('value');
    expect(classOf(ir, 'mlir', '%1#1')).toBe('value');
    expect(classOf(ir, 'mlir', 'stablehlo.add')).toBe('op');
    expect(classOf(ir, 'mlir', 'tensor')).toBe('type');
    expect(classOf(ir, 'mlir', '8x16xf32')).toBe('type');
    expect(classOf(ir, 'mlir', 'f32')).toBe('type');
    expect(classOf(ir, 'mlir', '// sum')).toBe('comment');
    expect(classOf(ir, 'mlir', 'return')).toBe('keyword');
    expect(classOf(ir, 'mlir', '@f')).toBe('symbol');
    expect(classOf(ir, 'mlir', '"result"')).toBe('string');
    expect(classOf(ir, 'mlir', '#loc3')).toBe('attr');
  });

  it('classes WGSL tokens', () => {
    const wgsl = '@group(0) @binding(1) var<storage, read_write> out: array<f32>;\n@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) id: vec3u) {\n  let x = exp(1.5) + 2u; /* c */\n}';
    expect(classOf(wgsl, 'wgsl', '@group')).toBe('attr');
    expect(classOf(wgsl, 'wgsl', 'fn')).toBe('keyword');
    expect(classOf(wgsl, 'wgsl', 'let')).toBe('keyword');
    expect(classOf(wgsl, 'wgsl', 'f32')).toBe('type');
    expect(classOf(wgsl, 'wgsl', 'vec3u')).toBe('type');
    expect(classOf(wgsl, 'wgsl', 'exp')).toBe('op');
    expect(classOf(wgsl, 'wgsl', '1.5')).toBe('number');
    expect(classOf(wgsl, 'wgsl', '2u')).toBe('number');
    expect(classOf(wgsl, 'wgsl', '/* c */')).toBe('comment');
    expect(tokenize(wgsl, 'wgsl').map((t) => t.text).join('')).toBe(wgsl);
  });

  it('escapes HTML in every language, so program text is never markup', () => {
    const evil = '// <img src=x onerror=alert(1)>\n"<script>" & \'x\'';
    for (const lang of ['mlir', 'wgsl', 'json'] as const) {
      const html = highlight(evil, lang);
      expect(html).not.toMatch(/<(?!\/?span)/);
      expect(unescape(html)).toBe(evil);
    }
    expect(escapeHtml('<a href="x">&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });

  it('classes JSON keys apart from string values', () => {
    const json = '{"dtype": "f32", "shape": [2], "data": [1.5, null, true]}';
    expect(classOf(json, 'json', '"dtype"')).toBe('attr');
    expect(classOf(json, 'json', '"f32"')).toBe('string');
    expect(classOf(json, 'json', '1.5')).toBe('number');
    expect(classOf(json, 'json', 'null')).toBe('keyword');
  });
});

describe('chart', () => {
  it('rounds axes up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 1, 3, 7, 12, 250, 1001].map(niceMax)).toEqual([1, 0.5, 1, 5, 10, 20, 500, 2000]);
  });

  it('draws one bar per second with requests, over the last minute only', () => {
    const now = 1_000_000;
    const svg = chartSvg([{ t: now - 100, requests: 9, gpuMs: 1 }, { t: now - 3, requests: 4, gpuMs: 20 }, { t: now, requests: 2, gpuMs: 5 }], now);
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(2);
    expect(svg).toContain('<title>4 requests</title>');
    expect(svg).not.toContain('9 requests');
    expect((svg.match(/<polyline class="line" points="([^"]+)"/)![1]).split(' ')).toHaveLength(60);
    // Axis maxima: 5 requests/s (for 4), 20 ms/s.
    expect(svg).toContain('>5</text>');
    expect(svg).toContain('>20</text>');
  });
});

describe('playground tensors', () => {
  it('round-trips example inputs through the editor text for every corpus program', () => {
    for (const name of corpusNames()) {
      const c = loadCase(name);
      const text = inputsText(c.inputs.map(toJson));
      const back = parseInputs(text);
      expect(back.map((t) => [t.dtype, t.shape])).toEqual(c.inputs.map((t) => [t.dtype, t.shape]));
      back.forEach((t, i) => expect(Array.from(narrowData(t))).toEqual(Array.from(narrowData(c.inputs[i]))));
    }
  });

  it('writes zero inputs of given types and reads `{inputs: [...]}` documents too', () => {
    const text = zeroInputs([{ dtype: 'f32', shape: [2, 2] }, { dtype: 'i32', shape: [] }]);
    const ts = parseInputs(text);
    expect(ts.map((t) => [t.dtype, t.shape, Array.from(narrowData(t))])).toEqual([['f32', [2, 2], [0, 0, 0, 0]], ['i32', [], [0]]]);
    expect(parseInputs('{"inputs": []}')).toEqual([]);
    expect(() => parseInputs('[{"dtype": "f64", "shape": [1], "data": [1]}]')).toThrow(/inputs\[0\].*f64/);
    expect(() => parseInputs('[1,')).toThrow(/not valid JSON/);
  });

  it('prints tensors as nested rows, truncated past the limit', () => {
    expect(formatTensor(hostTensor('f32', [2, 3], [1, 2.5, -3, 0.1234567, 1e-9, NaN]))).toBe('[[1.0, 2.5, -3.0],\n [0.123457, 1e-9, NaN]]');
    expect(formatTensor(hostTensor('i1', [2], [1, 0]))).toBe('[true, false]');
    expect(formatTensor(hostTensor('i32', [], [7]))).toBe('7');
    expect(formatTensor(hostTensor('i32', [10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 4)).toBe('[0, 1, 2, 3, …]');
  });

  it('compares with the corpus tolerances: floats within rtol, integers exactly', () => {
    const want = hostTensor('f32', [3], [1, 100, NaN]);
    expect(compareTensors(hostTensor('f32', [3], [1.0005, 100.05, NaN]), want).ok).toBe(true);
    expect(compareTensors(hostTensor('f32', [3], [1, 100.2, NaN]), want)).toMatchObject({ ok: false, detail: expect.stringContaining('element 1') });
    expect(compareTensors(hostTensor('i32', [2], [1, 2]), hostTensor('i32', [2], [1, 3])).ok).toBe(false);
    expect(compareTensors(hostTensor('f32', [2], [1, 2]), hostTensor('f32', [1, 2], [1, 2])).detail).toMatch(/shape/);
  });
});

describe('kernel timing rows', () => {
  it('gives each kernel its share of the kernels\' total, in program order', () => {
    const rows = kernelRows({
      kernels: [{ name: 'reduce_0', dispatches: 1, ms: 1 }, { name: 'skipped', dispatches: 0, ms: 0 }, { name: 'loop_body', dispatches: 5, ms: 3 }],
    });
    expect(rows.map((r) => [r.index, r.name, r.dispatches, r.share])).toEqual([[0, 'reduce_0', 1, 0.25], [1, 'skipped', 0, 0], [2, 'loop_body', 5, 0.75]]);
    expect(kernelRows({ kernels: [{ name: 'k', dispatches: 1, ms: 0 }] })[0].share).toBe(0);
  });

  it('writes shares as percentages, tiny ones as <0.1%', () => {
    expect(formatShare(0.25)).toBe('25.0%');
    expect(formatShare(1)).toBe('100.0%');
    expect(formatShare(0)).toBe('0.0%');
    expect(formatShare(0.0004)).toBe('<0.1%');
  });
});
