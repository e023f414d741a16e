/**
 * @file The canonical printer: a module to StableHLO text in the pretty forms JAX prints, with
 * values renamed in definition order and attributes in a fixed order. Deterministic, so that the
 * graph hash can be the hash of this text and `print(parse(print(m))) === print(m)`.
 */
import { formatDense } from './parse/literals.js';
import { BinaryElementwise, Op, UnaryElementwise, type ConvDims, type Precision } from './ops.js';
import { formatType, sameType, type AnyOperation, type Block, type Func, type Module, type Operation, type TensorType, type Value } from './types.js';

export interface PrintOptions {
  /** Print `loc(...)` after operations and functions that carry a source location. Default false. */
  locations?: boolean;
}

/** Options the hash uses on top of the public ones. */
export interface CanonicalOptions extends PrintOptions {
  /** Drop module name and attributes, arg/result attributes, and rename private functions. */
  forHash?: boolean;
}

/** Prints a module as canonical StableHLO text. */
export function printModule(m: Module, opts: PrintOptions = {}): string {
  return printCanonical(m, opts);
}

/** The printer behind `printModule` and `hashModule`. */
export function printCanonical(m: Module, opts: CanonicalOptions = {}): string {
  let funcs = m.funcs;
  let rename = (n: string) => n;
  if (opts.forHash) {
    const order = hashOrder(m);
    const names = new Map<string, string>();
    order.forEach((f) => { if (f.visibility === 'private') names.set(f.name, `f${names.size}`); });
    funcs = order;
    rename = (n) => names.get(n) ?? n;
  }
  const out: string[] = [];
  let header = 'module';
  if (!opts.forHash && m.name !== undefined) header += ` @${m.name}`;
  if (!opts.forHash && m.attrs && Object.keys(m.attrs).length > 0) header += ` attributes ${attrDict(m.attrs)}`;
  out.push(`${header} {`);
  for (const f of funcs) new FuncPrinter(out, opts, rename).func(f);
  out.push('}');
  return out.join('\n') + '\n';
}

/** Public functions in module order, then private ones in order of first call, then the rest. */
function hashOrder(m: Module): Func[] {
  const byName = new Map(m.funcs.map((f) => [f.name, f]));
  const order = m.funcs.filter((f) => f.visibility === 'public');
  const seen = new Set(order.map((f) => f.name));
  const visit = (b: Block) => {
    for (const o of b.ops) {
      if (o.op === Op.Call) {
        const callee = (o as Operation<Op.Call>).attrs.callee;
        const f = byName.get(callee);
        if (f && !seen.has(callee)) { seen.add(callee); order.push(f); }
      }
      o.regions.forEach((r) => visit(r.block));
    }
  };
  for (let i = 0; i < order.length; i++) visit(order[i].body);
  for (const f of m.funcs) if (!seen.has(f.name)) order.push(f);
  return order;
}

function attrDict(a: Record<string, string>): string {
  // A key written as a string (`{"a b" = 1}`) stays one, so the dictionary reads back.
  const key = (k: string) => (/^[A-Za-z_][\w$.]*$/.test(k) ? k : JSON.stringify(k));
  return `{${Object.entries(a).map(([k, v]) => (v === 'unit' ? key(k) : `${key(k)} = ${v}`)).join(', ')}}`;
}

const list = (xs: readonly (number | string | boolean)[]) => `[${xs.join(', ')}]`;
const arr = (xs: readonly number[]) => (xs.length ? `array<i64: ${xs.join(', ')}>` : 'array<i64>');
const types = (ts: readonly TensorType[]) => ts.map(formatType).join(', ');
const results = (ts: readonly TensorType[]) => (ts.length === 1 ? formatType(ts[0]) : `(${types(ts)})`);
const fnType = (ins: readonly TensorType[], outs: readonly TensorType[]) => `(${types(ins)}) -> ${results(outs)}`;
const precisionList = (p: Precision[]) => `[${p.map((x) => `#stablehlo<precision ${x}>`).join(', ')}]`;
const paddingDense = (p: [number, number][]) =>
  `dense<${p.length ? `[${p.map(([l, h]) => `[${l}, ${h}]`).join(', ')}]` : ''}> : tensor<${p.length}x2xi64>`;

function convLayout(dims: ConvDims): string {
  const side = (n: number, a: [string, number], b: [string, number], spatial: number[]) => {
    const s: string[] = new Array(n);
    s[a[1]] = a[0];
    s[b[1]] = b[0];
    spatial.forEach((pos, i) => { s[pos] = String(i); });
    return list(s);
  };
  const n = dims.inputSpatial.length + 2;
  return side(n, ['b', dims.inputBatch], ['f', dims.inputFeature], dims.inputSpatial) + 'x'
    + side(n, ['o', dims.kernelOutput], ['i', dims.kernelInput], dims.kernelSpatial) + '->'
    + side(n, ['b', dims.outputBatch], ['f', dims.outputFeature], dims.outputSpatial);
}

class FuncPrinter {
  private names = new Map<Value, string>();
  private next = 0;
  private nextArg = 0;
  private nextIter = 0;

  constructor(private out: string[], private opts: CanonicalOptions, private rename: (n: string) => string) {}

  private n(v: Value): string {
    const s = this.names.get(v);
    if (s === undefined) throw new Error(`printer: value ${v.name ?? '?'} is used before it is defined`);
    return s;
  }

  private ns(vs: readonly Value[]): string {
    return vs.map((v) => this.n(v)).join(', ');
  }

  private loc(l: { source?: string } | undefined): string {
    return this.opts.locations && !this.opts.forHash && l?.source ? ` loc(${l.source})` : '';
  }

  func(f: Func): void {
    const args = f.args.map((a, i) => {
      const name = `%arg${this.nextArg++}`;
      this.names.set(a, name);
      const attrs = !this.opts.forHash && f.argAttrs?.[i] ? ` ${attrDict(f.argAttrs[i]!)}` : '';
      return `${name}: ${formatType(a.type)}${attrs}`;
    });
    const resAttrs = !this.opts.forHash && f.resultAttrs?.some((r) => r);
    const res = f.resultTypes.map((t, i) => (resAttrs && f.resultAttrs![i] ? `${formatType(t)} ${attrDict(f.resultAttrs![i]!)}` : formatType(t)));
    const resText = f.resultTypes.length === 1 && !resAttrs ? ` -> ${res[0]}` : ` -> (${res.join(', ')})`;
    this.out.push(`  func.func ${f.visibility} @${this.rename(f.name)}(${args.join(', ')})${resText} {`);
    this.ops(f.body, '    ');
    this.out.push(`  }${this.loc(f.loc)}`);
  }

  private ops(b: Block, indent: string): void {
    for (const o of b.ops) this.op(o as AnyOperation, indent);
  }

  private defineResults(o: Operation): string {
    if (o.results.length === 0) return '';
    const base = `%${this.next++}`;
    if (o.results.length === 1) {
      this.names.set(o.results[0], base);
      return `${base} = `;
    }
    o.results.forEach((v, i) => this.names.set(v, `${base}#${i}`));
    return `${base}:${o.results.length} = `;
  }

  /** Names block arguments `%argN`, continuing the function's count, as MLIR does. */
  private blockArgs(vs: readonly Value[]): string {
    return vs.map((v) => {
      const name = `%arg${this.nextArg++}`;
      this.names.set(v, name);
      return `${name}: ${formatType(v.type)}`;
    }).join(', ');
  }

  /** `({ ^bb0(...): ... }, { ... })` */
  private genericRegions(o: Operation, indent: string): string[] {
    const lines: string[] = [];
    o.regions.forEach((r, i) => {
      const open = i === 0 ? '({' : '}, {';
      lines.push(open);
      if (r.block.args.length) lines.push(`${indent}^bb0(${this.blockArgs(r.block.args)}):`);
      lines.push(...this.capture(() => this.ops(r.block, indent + '  ')));
    });
    return lines;
  }

  private capture(f: () => void): string[] {
    const start = this.out.length;
    f();
    return this.out.splice(start);
  }

  /** Prints a generic op: `"name"(operands) <{props}> ({regions}) : (types) -> types`. */
  private generic(o: Operation, indent: string, props: string[]): void {
    const head = `${indent}${this.defineResults(o)}"${o.op}"(${this.ns(o.operands)})${props.length ? ` <{${props.join(', ')}}>` : ''}`;
    const sig = ` : ${fnType(o.operands.map((v) => v.type), o.results.map((v) => v.type))}${this.loc(o.loc)}`;
    if (o.regions.length === 0) { this.out.push(head + sig); return; }
    const lines = this.genericRegions(o, indent);
    this.out.push(`${head} ${lines[0]}`, ...lines.slice(1), `${indent}})${sig}`);
  }

  /** `: T` when every operand and the result share one type, else `: (A, B) -> R`. */
  private sameOrFn(o: Operation): string {
    const all = [...o.operands.map((v) => v.type), ...o.results.map((v) => v.type)];
    return all.every((t) => sameType(t, all[0])) && o.results.length === 1
      ? formatType(all[0]) : fnType(o.operands.map((v) => v.type), o.results.map((v) => v.type));
  }

  private op(o: AnyOperation, indent: string): void {
    const ins = o.operands.map((v) => v.type);
    const outs = o.results.map((v) => v.type);
    const loc = this.loc(o.loc);
    const operands = this.ns(o.operands);
    const simple = (body: string, sig: string) => {
      const lhs = this.defineResults(o);
      this.out.push(`${indent}${lhs}${o.op}${body ? ' ' + body : ''}${sig ? ' : ' + sig : ''}${loc}`);
    };
    if (UnaryElementwise.has(o.op) || (BinaryElementwise.has(o.op) && o.op !== Op.Compare)) {
      if (o.op.startsWith('chlo.')) simple(operands, `${types(ins)} -> ${results(outs)}`);
      else simple(operands, this.sameOrFn(o));
      return;
    }
    switch (o.op) {
      case Op.Compare:
        simple(`${o.attrs.direction}, ${operands}${o.attrs.compareType ? `, ${o.attrs.compareType}` : ''}`, fnType(ins, outs));
        return;
      case Op.Select:
        simple(operands, sameType(ins[1], ins[2]) && sameType(ins[1], outs[0]) ? `${formatType(ins[0])}, ${formatType(outs[0])}` : fnType(ins, outs));
        return;
      case Op.Clamp: case Op.Convert: case Op.BitcastConvert: case Op.Reshape:
        simple(operands, this.sameOrFn(o));
        return;
      case Op.ReducePrecision:
        simple(`${operands}, format = e${o.attrs.exponentBits}m${o.attrs.mantissaBits}`, this.sameOrFn(o));
        return;
      case Op.Fft:
        simple(`${operands}, type = ${o.attrs.fftType}, length = ${list(o.attrs.fftLength)}`, fnType(ins, outs));
        return;
      case Op.Constant:
        simple(formatDense(o.attrs.value, outs[0]), formatType(outs[0]));
        return;
      case Op.Iota:
        simple(`dim = ${o.attrs.dim}`, formatType(outs[0]));
        return;
      case Op.BroadcastInDim:
        simple(`${operands}, dims = ${list(o.attrs.dims)}`, fnType(ins, outs));
        return;
      case Op.Transpose:
        simple(`${operands}, dims = ${list(o.attrs.permutation)}`, fnType(ins, outs));
        return;
      case Op.Reverse:
        simple(`${operands}, dims = ${list(o.attrs.dims)}`, this.sameOrFn(o));
        return;
      case Op.Slice: {
        const a = o.attrs;
        const r = a.start.map((s, i) => `${s}:${a.limit[i]}${a.strides[i] !== 1 ? `:${a.strides[i]}` : ''}`);
        simple(`${operands} [${r.join(', ')}]`, fnType(ins, outs));
        return;
      }
      case Op.DynamicSlice:
        simple(`${operands}, sizes = ${list(o.attrs.sliceSizes)}`, fnType(ins, outs));
        return;
      case Op.DynamicUpdateSlice:
        simple(operands, fnType(ins, outs));
        return;
      case Op.Concatenate:
        simple(`${operands}, dim = ${o.attrs.dim}`, fnType(ins, outs));
        return;
      case Op.Pad:
        simple(`${operands}, low = ${list(o.attrs.low)}, high = ${list(o.attrs.high)}, interior = ${list(o.attrs.interior)}`, fnType(ins, outs));
        return;
      case Op.DotGeneral: {
        const d = o.attrs.dims;
        const parts = [operands];
        if (d.lhsBatch.length || d.rhsBatch.length) parts.push(`batching_dims = ${list(d.lhsBatch)} x ${list(d.rhsBatch)}`);
        parts.push(`contracting_dims = ${list(d.lhsContract)} x ${list(d.rhsContract)}`);
        if (o.attrs.precision) parts.push(`precision = ${list(o.attrs.precision)}`);
        simple(parts.join(', '), fnType(ins, outs));
        return;
      }
      case Op.Convolution: {
        const a = o.attrs;
        const pad = `[${a.padding.map(([l, h]) => `[${l}, ${h}]`).join(', ')}]`;
        const window = `{stride = ${list(a.windowStrides)}, pad = ${pad}, lhs_dilate = ${list(a.lhsDilation)}, `
          + `rhs_dilate = ${list(a.rhsDilation)}, reverse = ${list(a.windowReversal)}}`;
        const extra = [`batch_group_count = ${a.batchGroupCount} : i64`, `feature_group_count = ${a.featureGroupCount} : i64`];
        if (a.precision) extra.push(`precision_config = ${precisionList(a.precision)}`);
        const lhs = this.defineResults(o);
        this.out.push(`${indent}${lhs}${o.op}(${operands}) dim_numbers = ${convLayout(a.dims)}, window = ${window} {${extra.join(', ')}} : ${fnType(ins, outs)}${loc}`);
        return;
      }
      case Op.Gather: {
        const d = o.attrs.dims;
        const fields = [
          ['offset_dims', d.offsetDims], ['collapsed_slice_dims', d.collapsedSliceDims],
          ['operand_batching_dims', d.operandBatchingDims], ['start_indices_batching_dims', d.startIndicesBatchingDims],
          ['start_index_map', d.startIndexMap],
        ] as const;
        const dn = [...fields.filter(([, v]) => v.length).map(([k, v]) => `${k} = ${list(v)}`), `index_vector_dim = ${d.indexVectorDim}`];
        this.generic(o, indent, [
          `dimension_numbers = #stablehlo.gather<${dn.join(', ')}>`, `indices_are_sorted = ${o.attrs.indicesAreSorted}`,
          `slice_sizes = ${arr(o.attrs.sliceSizes)}`,
        ]);
        return;
      }
      case Op.Scatter: {
        const d = o.attrs.dims;
        const fields = [
          ['update_window_dims', d.updateWindowDims], ['inserted_window_dims', d.insertedWindowDims],
          ['input_batching_dims', d.inputBatchingDims], ['scatter_indices_batching_dims', d.scatterIndicesBatchingDims],
          ['scatter_dims_to_operand_dims', d.scatterDimsToOperandDims],
        ] as const;
        const dn = [...fields.filter(([, v]) => v.length).map(([k, v]) => `${k} = ${list(v)}`), `index_vector_dim = ${d.indexVectorDim}`];
        this.generic(o, indent, [
          `indices_are_sorted = ${o.attrs.indicesAreSorted}`, `scatter_dimension_numbers = #stablehlo.scatter<${dn.join(', ')}>`,
          `unique_indices = ${o.attrs.uniqueIndices}`,
        ]);
        return;
      }
      case Op.ReduceWindow: {
        const a = o.attrs;
        this.generic(o, indent, [
          `base_dilations = ${arr(a.baseDilations)}`, `padding = ${paddingDense(a.padding)}`,
          `window_dilations = ${arr(a.windowDilations)}`, `window_dimensions = ${arr(a.windowDimensions)}`,
          `window_strides = ${arr(a.windowStrides)}`,
        ]);
        return;
      }
      case Op.SelectAndScatter: {
        const a = o.attrs;
        this.generic(o, indent, [
          `padding = ${paddingDense(a.padding)}`, `window_dimensions = ${arr(a.windowDimensions)}`,
          `window_strides = ${arr(a.windowStrides)}`,
        ]);
        return;
      }
      case Op.Sort:
        this.generic(o, indent, [`dimension = ${o.attrs.dimension} : i64`, `is_stable = ${o.attrs.isStable}`]);
        return;
      case Op.Scan: {
        const a = o.attrs;
        this.generic(o, indent, [
          `dimension = ${a.dimension} : i64`, `is_associative = ${a.isAssociative}`, `is_reverse = ${a.isReverse}`,
          `operandSegmentSizes = array<i32: ${o.operands.length - a.numInits}, ${a.numInits}>`,
        ]);
        return;
      }
      case Op.If: case Op.Case:
        this.generic(o, indent, []);
        return;
      case Op.BatchNormTraining: case Op.BatchNormInference: case Op.BatchNormGrad:
        // 9 significant digits print every f32 exactly.
        this.generic(o, indent, [`epsilon = ${o.attrs.epsilon.toExponential(8)} : f32`, `feature_index = ${o.attrs.featureIndex} : i64`]);
        return;
      case Op.RngBitGenerator:
        simple(`${operands}, algorithm = ${o.attrs.algorithm}`, fnType(ins, outs));
        return;
      case Op.TopK: {
        const lhs = this.defineResults(o);
        this.out.push(`${indent}${lhs}${o.op}(${operands}, k = ${o.attrs.k}) : ${types(ins)} -> ${results(outs)}${loc}`);
        return;
      }
      case Op.Cholesky:
        simple(`${operands}, lower = ${o.attrs.lower}`, this.sameOrFn(o));
        return;
      case Op.TriangularSolve: {
        const a = o.attrs;
        this.generic(o, indent, [
          `left_side = ${a.leftSide}`, `lower = ${a.lower}`, `transpose_a = #stablehlo<transpose ${a.transposeA}>`,
          `unit_diagonal = ${a.unitDiagonal}`,
        ]);
        return;
      }
      case Op.CustomCall: {
        // The attribute dictionary as parsed (or as the client built it from JAX's lowering).
        const lhs = this.defineResults(o);
        const dict = o.attrs.text.length ? ` {${o.attrs.text.map(([k, v]) => `${k} = ${v}`).join(', ')}}` : '';
        this.out.push(`${indent}${lhs}${o.op} @${o.attrs.target}(${operands})${dict} : ${fnType(ins, outs)}${loc}`);
        return;
      }
      case Op.Reduce:
        this.reduce(o, indent);
        return;
      case Op.While:
        this.whileOp(o, indent);
        return;
      case Op.Call: {
        const lhs = this.defineResults(o);
        this.out.push(`${indent}${lhs}call @${this.rename(o.attrs.callee)}(${operands}) : ${fnType(ins, outs)}${loc}`);
        return;
      }
      case Op.Return:
        simple(operands, o.operands.length ? types(ins) : '');
        return;
      case Op.OptimizationBarrier:
        // The short form says the results have the operands' types; an unverified module may not.
        simple(operands, !o.operands.length ? '' : outs.every((t, i) => sameType(t, ins[i])) ? types(ins) : fnType(ins, outs));
        return;
      case Op.FuncReturn:
        this.out.push(`${indent}return${operands ? ' ' + operands : ''}${o.operands.length ? ' : ' + types(ins) : ''}${loc}`);
        return;
      default:
        throw new Error(`printer: no form for ${(o as Operation).op}`);
    }
  }

  /** `applies op` when the body is one binary op on the two block arguments, else `reducer(...)`. */
  private reduce(o: Operation<Op.Reduce>, indent: string): void {
    const n = o.operands.length / 2;
    const inputs = o.operands.slice(0, n);
    const inits = o.operands.slice(n);
    const pairs = inputs.map((v, i) => `(${this.n(v)} init: ${this.n(inits[i])})`).join(', ');
    const sig = fnType(o.operands.map((v) => v.type), o.results.map((v) => v.type));
    const dims = `across dimensions = ${list(o.attrs.dims)}`;
    const b = o.regions[0].block;
    const [inner, ret] = b.ops;
    const compact = n === 1 && b.ops.length === 2 && BinaryElementwise.has(inner.op) && inner.op !== Op.Compare
      && inner.operands[0] === b.args[0] && inner.operands[1] === b.args[1] && inner.results.length === 1
      && ret.operands.length === 1 && ret.operands[0] === inner.results[0]
      && b.args.every((a) => sameType(a.type, inits[0].type)) && sameType(inner.results[0].type, inits[0].type);
    const lhs = this.defineResults(o);
    if (compact) {
      this.out.push(`${indent}${lhs}${o.op}${pairs} applies ${inner.op} ${dims} : ${sig}${this.loc(o.loc)}`);
      return;
    }
    // An op's location follows its last region, as MLIR prints it.
    this.out.push(`${indent}${lhs}${o.op}${pairs} ${dims} : ${sig}`);
    const names = b.args.map((a) => { const s = `%arg${this.nextArg++}`; this.names.set(a, s); return s; });
    const groups = inputs.map((_, i) => `(${names[i]}: ${formatType(b.args[i].type)}, ${names[n + i]}: ${formatType(b.args[n + i].type)})`);
    this.out.push(`${indent} reducer${groups.join(' ')} {`);
    this.ops(b, indent + '  ');
    this.out.push(`${indent}}${this.loc(o.loc)}`);
  }

  private whileOp(o: Operation<Op.While>, indent: string): void {
    const [cond, body] = o.regions.map((r) => r.block);
    const iter = o.operands.map((v, i) => {
      const k = this.nextIter++;
      const name = k === 0 ? '%iterArg' : `%iterArg_${k - 1}`;
      this.names.set(cond.args[i], name);
      this.names.set(body.args[i], name);
      return `${name} = ${this.n(v)}`;
    });
    const lhs = this.defineResults(o);
    this.out.push(`${indent}${lhs}${o.op}(${iter.join(', ')}) : ${types(o.operands.map((v) => v.type))}`);
    this.out.push(`${indent}cond {`);
    this.ops(cond, indent + '  ');
    this.out.push(`${indent}} do {`);
    this.ops(body, indent + '  ');
    this.out.push(`${indent}}${this.loc(o.loc)}`);
  }
}
