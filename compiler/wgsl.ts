/**
 * @file A small builder for WGSL source: indentation, fresh temporaries, and helper functions that
 * are emitted once per kernel and only when a kernel uses them.
 */

/** Names a temporary must not take: `let f32 = ...` would shadow the type. */
const RESERVED = new Set(['f16', 'f32', 'i32', 'u32', 'i8', 'u8', 'i16', 'u16', 'i64', 'u64', 'f64']);

export class WgslBuilder {
  private readonly lines: string[] = [];
  private depth = 0;
  private counter = 0;
  private readonly helpers = new Map<string, string>();
  private readonly enables = new Set<string>();

  /** Appends one line at the current indentation. */
  line(text: string): this {
    this.lines.push('  '.repeat(this.depth) + text);
    return this;
  }

  /** Opens `header {`, runs `body` one level deeper, closes `}`. */
  block(header: string, body: () => void): this {
    this.line(`${header} {`);
    this.depth++;
    body();
    this.depth--;
    this.line('}');
    return this;
  }

  /** A fresh name for a temporary: `${prefix}${n}`, never a WGSL type name such as `f32` or `i32`. */
  fresh(prefix = 't'): string {
    let name = `${prefix}${this.counter++}`;
    while (RESERVED.has(name)) name = `${prefix}${this.counter++}`;
    return name;
  }

  /** Declares `let name: type = expr;` and returns the name. */
  let(expr: string, type?: string, prefix = 't'): string {
    const name = this.fresh(prefix);
    this.line(type ? `let ${name}: ${type} = ${expr};` : `let ${name} = ${expr};`);
    return name;
  }

  /** Declares `var name: type = expr;` and returns the name. */
  var(type: string, expr?: string, prefix = 'v'): string {
    const name = this.fresh(prefix);
    this.line(expr === undefined ? `var ${name}: ${type};` : `var ${name}: ${type} = ${expr};`);
    return name;
  }

  /** Registers a helper function by name; emitted once, before the kernel body. */
  helper(name: string, source: string): string {
    if (!this.helpers.has(name)) this.helpers.set(name, source.trim());
    return name;
  }

  enable(feature: 'f16' | 'subgroups'): void {
    this.enables.add(feature);
  }

  /** The complete module: `enable`s, helpers, then the lines. */
  toString(): string {
    const head = [...this.enables].sort().map((e) => `enable ${e};`);
    return [...head, ...(head.length ? [''] : []), ...[...this.helpers.values()].flatMap((h) => [h, '']), ...this.lines].join('\n') + '\n';
  }
}
