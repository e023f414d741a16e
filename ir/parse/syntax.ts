/**
 * @file The syntax tree the grammar produces: text-level shapes of attributes, ops, blocks and
 * functions, with tokens kept for error locations. `parser.ts` turns it into the IR graph.
 */
import type { IToken } from 'chevrotain';

/** A dense literal's body: a nested list of scalars, a hex string, or nothing (`dense<>`). */
export type DenseNode =
  | { k: 'list'; items: DenseNode[]; tok: IToken }
  | { k: 'num'; text: string; tok: IToken }
  | { k: 'hex'; text: string; tok: IToken }
  | { k: 'bool'; v: boolean; tok: IToken }
  | { k: 'str'; v: string; tok: IToken }
  /** `(re,im)`: one element of a complex literal. */
  | { k: 'complex'; re: DenseNode; im: DenseNode; tok: IToken };

/** An attribute value as written. */
export type Attr =
  | { k: 'int'; text: string; type?: string; tok: IToken }
  | { k: 'float'; text: string; type?: string; tok: IToken }
  | { k: 'hex'; text: string; tok: IToken }
  | { k: 'bool'; v: boolean; tok: IToken }
  | { k: 'str'; v: string; tok: IToken }
  | { k: 'ident'; v: string; tok: IToken }
  | { k: 'sym'; v: string; tok: IToken }
  | { k: 'type'; text: string; tok: IToken }
  | { k: 'list'; items: Attr[]; tok: IToken }
  /** `0:16:2` inside a slice's brackets. */
  | { k: 'range'; parts: Attr[]; tok: IToken }
  | { k: 'dense'; body?: DenseNode; typeTok?: IToken; tok: IToken }
  | { k: 'array'; elem: string; items: Attr[]; tok: IToken }
  | { k: 'dict'; entries: AttrEntry[]; tok: IToken }
  /** `#stablehlo.gather<k = v, ...>`, `#stablehlo<precision HIGHEST>`, `#stablehlo.conv<[b, f]x...>`. */
  | { k: 'hash'; name: string; items: HashItem[]; tok: IToken; /** The closing `>`, for the source text. */ end?: IToken }
  /** `[1] x [0]` (dot dims) or `[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]` (conv dims). */
  | { k: 'cross'; parts: Attr[]; tok: IToken };

export interface AttrEntry {
  key: string;
  keyTok: IToken;
  /** Absent for a unit attribute (`{foo}`). */
  value?: Attr;
}

export type HashItem = { key?: string; value?: Attr; tok: IToken };

/** One piece of a pretty op's operand section, between the op name and its `:` type signature. */
export type Piece =
  | { k: 'comma'; tok: IToken }
  | { k: 'value'; name: string; tok: IToken; init?: { name: string; tok: IToken }; eq?: { name: string; tok: IToken } }
  | { k: 'ident'; v: string; tok: IToken; value?: Attr }
  | { k: 'group'; pieces: Piece[]; tok: IToken }
  /** `<...>` after an op name's operands: Shardy's inline sharding (`<@mesh, [{"x"}, {}]>`). */
  | { k: 'angle'; pieces: Piece[]; tok: IToken }
  | { k: 'sym'; v: string; tok: IToken }
  | { k: 'attr'; value: Attr; tok: IToken };

export interface TypeSig {
  /** Types before `->`, or the only list when there is no arrow. */
  inputs: IToken[];
  /** Types after `->`; undefined when the signature has no arrow. */
  results?: IToken[];
  /** True for `(A, B) -> C`; false for `A, B -> C` and `A, B`. */
  parenthesized: boolean;
  tok: IToken;
}

export interface BlockArgSyntax {
  name: string;
  tok: IToken;
  typeTok: IToken;
  loc?: IToken;
}

export interface RegionSyntax {
  open: IToken;
  close: IToken;
  label?: IToken;
  args: BlockArgSyntax[];
  ops: OpSyntax[];
}

export interface ResultSyntax {
  name: string;
  tok: IToken;
  count?: number;
}

export interface OpSyntax {
  results: ResultSyntax[];
  name: string;
  nameTok: IToken;
  generic: boolean;
  /** Generic form: operands in parentheses. */
  operands: { name: string; tok: IToken }[];
  /** Generic form: `<{...}>` properties and `{...}` attributes, merged. */
  attrs: AttrEntry[];
  /** Pretty form: the operand section. */
  pieces: Piece[];
  sig?: TypeSig;
  regions: RegionSyntax[];
  /** Pretty `reducer(%a: T, %b: T) (...)`: one pair per input. */
  reducerArgs?: BlockArgSyntax[][];
  /** Pretty `while`: the words between regions (`cond`, `do`). */
  regionWords?: IToken[];
  loc?: IToken;
}

export interface FuncSyntax {
  tok: IToken;
  visibility?: IToken;
  name: string;
  nameTok: IToken;
  args: { name: string; tok: IToken; typeTok: IToken; attrs?: AttrEntry[]; loc?: IToken }[];
  results: { typeTok: IToken; attrs?: AttrEntry[] }[];
  body: RegionSyntax;
  loc?: IToken;
}

export interface ModuleSyntax {
  name?: string;
  attrs?: AttrEntry[];
  funcs: FuncSyntax[];
  /** `#loc3 = loc(...)` definitions: alias name to the `loc(...)` text. */
  aliases: Map<string, string>;
  loc?: IToken;
  /** `sdy.mesh @name = <["x"=1]> {...}` declarations, each one token. */
  meshes: IToken[];
}
