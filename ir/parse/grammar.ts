/**
 * @file The Chevrotain grammar of StableHLO text as JAX prints it: modules, functions, blocks,
 * generic ops (`"stablehlo.gather"(...) <{...}> ({...}) : (...) -> ...`) and pretty ops. A pretty
 * op's operand section is read as a flat list of pieces (values, `key = value`, bracketed lists,
 * groups in parentheses) that `pretty.ts` interprets per op, because every op has its own custom
 * syntax and a grammar rule per op would be most of this file for little gain.
 */
import { EmbeddedActionsParser, type IToken } from 'chevrotain';
import { allTokens, Tok } from './lexer.js';
import type {
  Attr, AttrEntry, BlockArgSyntax, DenseNode, FuncSyntax, HashItem, ModuleSyntax, OpSyntax, Piece,
  RegionSyntax, ResultSyntax, TypeSig,
} from './syntax.js';

class StablehloGrammar extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { maxLookahead: 3, recoveryEnabled: false });
    this.performSelfAnalysis();
  }

  module = this.RULE('module', (): ModuleSyntax => {
    const aliases = new Map<string, string>();
    const funcs: FuncSyntax[] = [];
    const meshes: IToken[] = [];
    let name: string | undefined;
    let attrs: AttrEntry[] | undefined;
    let loc: IToken | undefined;
    const addAlias = (a: [string, string]) => this.ACTION(() => aliases.set(a[0], a[1]));
    this.MANY(() => addAlias(this.SUBRULE(this.aliasDef)));
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Tok.Module);
          this.OPTION(() => { name = this.CONSUME(Tok.SymbolRef).image.slice(1); });
          this.OPTION2(() => {
            this.CONSUME(Tok.Attributes);
            const d = this.SUBRULE(this.attrDict);
            this.ACTION(() => { attrs = d.entries; });
          });
          this.CONSUME(Tok.LBrace);
          this.MANY2(() => {
            this.OR2([
              { ALT: () => { funcs.push(this.SUBRULE(this.func)); } },
              { ALT: () => { meshes.push(this.CONSUME(Tok.SdyMesh)); } },
            ]);
          });
          this.CONSUME(Tok.RBrace);
          this.OPTION3(() => { loc = this.CONSUME(Tok.Loc); });
        },
      },
      { ALT: () => this.AT_LEAST_ONE(() => { funcs.push(this.SUBRULE2(this.func)); }) },
    ]);
    this.MANY3(() => addAlias(this.SUBRULE2(this.aliasDef)));
    return { name, attrs, funcs, aliases, loc, meshes };
  });

  aliasDef = this.RULE('aliasDef', (): [string, string] => {
    const n = this.CONSUME(Tok.HashIdent);
    this.CONSUME(Tok.Equals);
    const l = this.CONSUME(Tok.Loc);
    return [n.image, l.image];
  });

  func = this.RULE('func', (): FuncSyntax => {
    const tok = this.CONSUME(Tok.FuncFunc);
    let visibility: IToken | undefined;
    this.OPTION(() => { visibility = this.CONSUME(Tok.Identifier); });
    const nameTok = this.CONSUME(Tok.SymbolRef);
    const args: FuncSyntax['args'] = [];
    const results: FuncSyntax['results'] = [];
    this.CONSUME(Tok.LParen);
    this.MANY_SEP({
      SEP: Tok.Comma,
      DEF: () => {
        const v = this.CONSUME(Tok.ValueId);
        this.CONSUME(Tok.Colon);
        const typeTok = this.SUBRULE(this.typeAtom);
        let attrs: AttrEntry[] | undefined;
        let loc: IToken | undefined;
        this.OPTION2(() => { const d = this.SUBRULE(this.attrDict); this.ACTION(() => { attrs = d.entries; }); });
        this.OPTION3(() => { loc = this.CONSUME(Tok.Loc); });
        args.push({ name: v.image, tok: v, typeTok, attrs, loc });
      },
    });
    this.CONSUME(Tok.RParen);
    this.OPTION4(() => {
      this.CONSUME(Tok.Arrow);
      this.OR([
        {
          ALT: () => {
            this.CONSUME2(Tok.LParen);
            this.MANY_SEP2({
              SEP: Tok.Comma,
              DEF: () => {
                const typeTok = this.SUBRULE2(this.typeAtom);
                let attrs: AttrEntry[] | undefined;
                this.OPTION5(() => { const d = this.SUBRULE2(this.attrDict); this.ACTION(() => { attrs = d.entries; }); });
                this.OPTION6(() => this.CONSUME2(Tok.Loc));
                results.push({ typeTok, attrs });
              },
            });
            this.CONSUME2(Tok.RParen);
          },
        },
        { ALT: () => { results.push({ typeTok: this.SUBRULE3(this.typeAtom) }); } },
      ]);
    });
    this.OPTION7(() => { this.CONSUME(Tok.Attributes); this.SUBRULE3(this.attrDict); });
    const body = this.SUBRULE(this.region);
    let loc: IToken | undefined;
    this.OPTION8(() => { loc = this.CONSUME3(Tok.Loc); });
    return { tok, visibility, name: nameTok.image.slice(1), nameTok, args, results, body, loc };
  });

  region = this.RULE('region', (): RegionSyntax => {
    const open = this.CONSUME(Tok.LBrace);
    let label: IToken | undefined;
    let args: BlockArgSyntax[] = [];
    const ops: OpSyntax[] = [];
    this.OPTION(() => {
      label = this.CONSUME(Tok.BlockId);
      this.OPTION2(() => { args = this.SUBRULE(this.blockArgs); });
      this.CONSUME(Tok.Colon);
    });
    this.MANY(() => { ops.push(this.SUBRULE(this.op)); });
    const close = this.CONSUME(Tok.RBrace);
    return { open, close, label, args, ops };
  });

  /** `(%a: tensor<f32>, %b: tensor<f32>)` */
  blockArgs = this.RULE('blockArgs', (): BlockArgSyntax[] => {
    const args: BlockArgSyntax[] = [];
    this.CONSUME(Tok.LParen);
    this.MANY_SEP({
      SEP: Tok.Comma,
      DEF: () => {
        const tok = this.CONSUME(Tok.ValueId);
        this.CONSUME(Tok.Colon);
        const typeTok = this.SUBRULE(this.typeAtom);
        let loc: IToken | undefined;
        this.OPTION(() => { loc = this.CONSUME(Tok.Loc); });
        args.push({ name: tok.image, tok, typeTok, loc });
      },
    });
    this.CONSUME(Tok.RParen);
    return args;
  });

  op = this.RULE('op', (): OpSyntax => {
    const results: ResultSyntax[] = [];
    this.OPTION(() => {
      this.AT_LEAST_ONE_SEP({
        SEP: Tok.Comma,
        DEF: () => {
          const tok = this.CONSUME(Tok.ValueId);
          let count: number | undefined;
          this.OPTION2(() => { this.CONSUME(Tok.Colon); count = Number(this.CONSUME(Tok.Integer).image); });
          results.push({ name: tok.image, tok, count });
        },
      });
      this.CONSUME(Tok.Equals);
    });
    const op = this.OR([
      { ALT: () => this.SUBRULE(this.genericOp) },
      { ALT: () => this.SUBRULE(this.prettyOp) },
    ]);
    this.OPTION3(() => { const l = this.CONSUME(Tok.Loc); this.ACTION(() => { op.loc = l; }); });
    this.ACTION(() => { op.results = results; });
    return op;
  });

  genericOp = this.RULE('genericOp', (): OpSyntax => {
    const nameTok = this.CONSUME(Tok.StringLit);
    const operands: { name: string; tok: IToken }[] = [];
    const attrs: AttrEntry[] = [];
    const regions: RegionSyntax[] = [];
    this.CONSUME(Tok.LParen);
    this.MANY_SEP({ SEP: Tok.Comma, DEF: () => { const t = this.CONSUME(Tok.ValueId); operands.push({ name: t.image, tok: t }); } });
    this.CONSUME(Tok.RParen);
    this.OPTION(() => {
      this.CONSUME(Tok.LAngle);
      const d = this.SUBRULE(this.attrDict);
      this.ACTION(() => attrs.push(...d.entries));
      this.CONSUME(Tok.RAngle);
    });
    this.OPTION2(() => {
      this.CONSUME2(Tok.LParen);
      this.AT_LEAST_ONE_SEP({ SEP: Tok.Comma, DEF: () => { regions.push(this.SUBRULE(this.region)); } });
      this.CONSUME2(Tok.RParen);
    });
    this.OPTION3(() => {
      const d = this.SUBRULE2(this.attrDict);
      this.ACTION(() => attrs.push(...d.entries));
    });
    this.CONSUME(Tok.Colon);
    const sig = this.SUBRULE(this.typeSig);
    return {
      results: [], name: nameTok.image.slice(1, -1), nameTok, generic: true, operands, attrs, pieces: [], sig, regions,
    };
  });

  prettyOp = this.RULE('prettyOp', (): OpSyntax => {
    const nameTok = this.CONSUME(Tok.Identifier);
    const pieces: Piece[] = [];
    const regions: RegionSyntax[] = [];
    const regionWords: IToken[] = [];
    let sig: TypeSig | undefined;
    let reducerArgs: BlockArgSyntax[][] | undefined;
    // A typed `dense<...> : tensor<...>` ends a constant without a separate signature, so stop
    // before the next op's result definition.
    const typedDense = () => {
      const last = pieces[pieces.length - 1];
      return last?.k === 'attr' && last.value?.k === 'dense' && last.value.typeTok !== undefined;
    };
    this.MANY({ GATE: () => !typedDense() && !this.atResultDef(), DEF: () => { pieces.push(this.SUBRULE(this.piece)); } });
    // `chlo.scan(...) inits (...) dimension=0 attributes {...} { ^bb0(...): ... }`: a body region
    // before the signature.
    this.OPTION4({
      GATE: () => this.LA(1).tokenType === Tok.LBrace && this.LA(2).tokenType === Tok.BlockId,
      DEF: () => { regions.push(this.SUBRULE4(this.region)); },
    });
    this.OPTION(() => { this.CONSUME(Tok.Colon); sig = this.SUBRULE(this.typeSig); });
    // `while ... cond { } do { }`
    this.OPTION2({
      GATE: () => this.LA(1).image === 'cond',
      DEF: () => {
        regionWords.push(this.CONSUME4(Tok.Identifier));
        regions.push(this.SUBRULE(this.region));
        regionWords.push(this.CONSUME2(Tok.Identifier));
        regions.push(this.SUBRULE2(this.region));
      },
    });
    // the long form of reduce: `reducer(%a: T, %b: T) (%c: T, %d: T) { ... }`
    this.OPTION3({
      GATE: () => this.LA(1).image === 'reducer',
      DEF: () => {
        regionWords.push(this.CONSUME3(Tok.Identifier));
        reducerArgs = [];
        this.AT_LEAST_ONE(() => { reducerArgs!.push(this.SUBRULE(this.blockArgs)); });
        regions.push(this.SUBRULE3(this.region));
      },
    });
    return {
      results: [], name: nameTok.image, nameTok, generic: false, operands: [], attrs: [], pieces, sig, regions,
      reducerArgs, regionWords,
    };
  });

  /** Whether the next tokens read `%a, %b:2 =`: the start of another op. */
  private atResultDef(): boolean {
    for (let i = 1; ; i++) {
      if (this.LA(i).tokenType !== Tok.ValueId) return false;
      i++;
      if (this.LA(i).tokenType === Tok.Colon && this.LA(i + 1).tokenType === Tok.Integer) i += 2;
      if (this.LA(i).tokenType === Tok.Equals) return true;
      if (this.LA(i).tokenType !== Tok.Comma) return false;
    }
  }

  piece = this.RULE('piece', (): Piece => this.OR({
    IGNORE_AMBIGUITIES: true,
    DEF: [
      { ALT: () => ({ k: 'comma', tok: this.CONSUME(Tok.Comma) }) as Piece },
      {
        ALT: () => {
          const tok = this.CONSUME(Tok.ValueId);
          const p: Piece & { k: 'value' } = { k: 'value', name: tok.image, tok };
          this.OPTION({
            GATE: () => this.LA(1).image === 'init' && this.LA(2).tokenType === Tok.Colon,
            DEF: () => {
              this.CONSUME(Tok.Identifier);
              this.CONSUME(Tok.Colon);
              const t = this.CONSUME2(Tok.ValueId);
              p.init = { name: t.image, tok: t };
            },
          });
          this.OPTION2(() => {
            this.CONSUME(Tok.Equals);
            const t = this.CONSUME3(Tok.ValueId);
            p.eq = { name: t.image, tok: t };
          });
          return p as Piece;
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME2(Tok.Identifier);
          let value: Attr | undefined;
          this.OPTION3(() => { this.CONSUME2(Tok.Equals); value = this.SUBRULE(this.kwValue); });
          return { k: 'ident', v: tok.image, tok, value } as Piece;
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(Tok.LParen);
          const pieces: Piece[] = [];
          this.MANY(() => { pieces.push(this.SUBRULE(this.piece)); });
          this.CONSUME(Tok.RParen);
          return { k: 'group', pieces, tok } as Piece;
        },
      },
      {
        // `<@mesh, [{"x"}, {}]>`: a Shardy sharding written inline (sdy.sharding_constraint).
        ALT: () => {
          const tok = this.CONSUME(Tok.LAngle);
          const pieces: Piece[] = [];
          this.MANY4(() => { pieces.push(this.SUBRULE3(this.piece)); });
          this.CONSUME(Tok.RAngle);
          return { k: 'angle', pieces, tok } as Piece;
        },
      },
      { ALT: () => { const tok = this.CONSUME(Tok.SymbolRef); return { k: 'sym', v: tok.image.slice(1), tok } as Piece; } },
      {
        // `chlo.scan(...) ... attributes {is_associative = true}`: an inline attribute dictionary.
        ALT: () => {
          this.CONSUME(Tok.Attributes);
          const value = this.SUBRULE(this.attrDict);
          return { k: 'attr', value, tok: value.tok } as Piece;
        },
      },
      {
        ALT: () => {
          const value = this.SUBRULE2(this.kwValue);
          return { k: 'attr', value, tok: value?.tok } as Piece;
        },
      },
    ],
  }));

  /** An attribute value, possibly crossed with others: `[1] x [0]`, `[b, f]x[o, i]->[b, f]`. */
  kwValue = this.RULE('kwValue', (): Attr => {
    const first = this.SUBRULE(this.attrValue);
    const parts: Attr[] = [first];
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(Tok.X) }, { ALT: () => this.CONSUME(Tok.Arrow) }]);
      parts.push(this.SUBRULE2(this.attrValue));
    });
    return this.ACTION(() => (parts.length === 1 ? first : { k: 'cross', parts, tok: first.tok }));
  });

  attrValue = this.RULE('attrValue', (): Attr => this.OR({
    IGNORE_AMBIGUITIES: true,
    DEF: [
      {
        ALT: () => {
          const tok = this.CONSUME(Tok.Integer);
          let type: string | undefined;
          this.OPTION({
            GATE: () => this.LA(2).tokenType === Tok.Identifier,
            DEF: () => { this.CONSUME(Tok.Colon); type = this.CONSUME(Tok.Identifier).image; },
          });
          return { k: 'int', text: tok.image, type, tok } as Attr;
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(Tok.Float);
          let type: string | undefined;
          this.OPTION2({
            GATE: () => this.LA(2).tokenType === Tok.Identifier,
            DEF: () => { this.CONSUME2(Tok.Colon); type = this.CONSUME2(Tok.Identifier).image; },
          });
          return { k: 'float', text: tok.image, type, tok } as Attr;
        },
      },
      { ALT: () => { const tok = this.CONSUME(Tok.Hex); return { k: 'hex', text: tok.image, tok } as Attr; } },
      { ALT: () => { const tok = this.CONSUME(Tok.True); return { k: 'bool', v: true, tok } as Attr; } },
      { ALT: () => { const tok = this.CONSUME(Tok.False); return { k: 'bool', v: false, tok } as Attr; } },
      { ALT: () => { const tok = this.CONSUME(Tok.StringLit); return { k: 'str', v: unquote(tok.image), tok } as Attr; } },
      { ALT: () => { const tok = this.CONSUME3(Tok.Identifier); return { k: 'ident', v: tok.image, tok } as Attr; } },
      { ALT: () => { const tok = this.CONSUME(Tok.SymbolRef); return { k: 'sym', v: tok.image.slice(1), tok } as Attr; } },
      { ALT: () => { const tok = this.SUBRULE(this.typeAtom); return { k: 'type', text: tok.image, tok } as Attr; } },
      {
        ALT: () => {
          const tok = this.CONSUME(Tok.LBracket);
          const items: Attr[] = [];
          this.MANY_SEP({
            SEP: Tok.Comma,
            DEF: () => {
              const a = this.SUBRULE(this.attrValue);
              const parts: Attr[] = [a];
              // `0:16:2` in a slice
              this.MANY(() => {
                this.CONSUME3(Tok.Colon);
                const b = this.SUBRULE2(this.attrValue);
                parts.push(b);
              });
              items.push(this.ACTION(() => (parts.length === 1 ? a : { k: 'range', parts, tok: a.tok } as Attr)));
            },
          });
          this.CONSUME(Tok.RBracket);
          return { k: 'list', items, tok } as Attr;
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(Tok.Dense);
          let body: DenseNode | undefined;
          let typeTok: IToken | undefined;
          this.CONSUME(Tok.LAngle);
          this.OPTION3(() => { body = this.SUBRULE(this.denseNode); });
          this.CONSUME(Tok.RAngle);
          this.OPTION4({
            GATE: () => this.LA(2).tokenType === Tok.TensorType,
            DEF: () => { this.CONSUME4(Tok.Colon); typeTok = this.CONSUME(Tok.TensorType); },
          });
          return { k: 'dense', body, typeTok, tok } as Attr;
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(Tok.ArrayKw);
          this.CONSUME2(Tok.LAngle);
          const elem = this.CONSUME4(Tok.Identifier).image;
          const items: Attr[] = [];
          this.OPTION5(() => {
            this.CONSUME5(Tok.Colon);
            this.MANY_SEP2({ SEP: Tok.Comma, DEF: () => { items.push(this.SUBRULE3(this.attrValue)); } });
          });
          this.CONSUME2(Tok.RAngle);
          return { k: 'array', elem, items, tok } as Attr;
        },
      },
      { ALT: () => this.SUBRULE(this.attrDict) as Attr },
      {
        ALT: () => {
          const tok = this.CONSUME(Tok.HashIdent);
          const items: HashItem[] = [];
          let end: IToken | undefined;
          this.OPTION6(() => {
            this.CONSUME3(Tok.LAngle);
            this.MANY2(() => {
              this.OR2({
                IGNORE_AMBIGUITIES: true,
                DEF: [
                  { ALT: () => { this.CONSUME2(Tok.Comma); } },
                  // `#sdy.op_sharding_rule<([i, j])->([k, l], []) {...}, custom>`: factor mappings,
                  // kept as opaque items (kiln reads no sharding rule; one device needs none).
                  { ALT: () => { this.CONSUME3(Tok.LParen); } },
                  { ALT: () => { this.CONSUME3(Tok.RParen); } },
                  { ALT: () => { this.CONSUME3(Tok.Arrow); } },
                  {
                    ALT: () => {
                      const k = this.CONSUME5(Tok.Identifier);
                      let value: Attr | undefined;
                      this.OPTION7(() => { this.CONSUME(Tok.Equals); value = this.SUBRULE(this.kwValue); });
                      items.push({ key: k.image, value, tok: k });
                    },
                  },
                  { ALT: () => { const value = this.SUBRULE2(this.kwValue); items.push({ value, tok: value?.tok }); } },
                ],
              });
            });
            end = this.CONSUME3(Tok.RAngle);
          });
          return (end ? { k: 'hash', name: tok.image, items, tok, end } : { k: 'hash', name: tok.image, items, tok }) as Attr;
        },
      },
    ],
  }));

  attrDict = this.RULE('attrDict', (): Attr & { k: 'dict' } => {
    const tok = this.CONSUME(Tok.LBrace);
    const entries: AttrEntry[] = [];
    this.MANY_SEP({
      SEP: Tok.Comma,
      DEF: () => {
        const keyTok = this.OR([
          { ALT: () => this.CONSUME(Tok.Identifier) },
          { ALT: () => this.CONSUME(Tok.StringLit) },
        ]);
        let value: Attr | undefined;
        this.OPTION(() => { this.CONSUME(Tok.Equals); value = this.SUBRULE(this.kwValue); });
        this.ACTION(() => {
          entries.push({ key: keyTok.image.startsWith('"') ? unquote(keyTok.image) : keyTok.image, keyTok, value });
        });
      },
    });
    this.CONSUME(Tok.RBrace);
    return { k: 'dict', entries, tok };
  });

  denseNode = this.RULE('denseNode', (): DenseNode => this.OR([
    {
      ALT: () => {
        const tok = this.CONSUME(Tok.LBracket);
        const items: DenseNode[] = [];
        this.MANY_SEP({ SEP: Tok.Comma, DEF: () => { items.push(this.SUBRULE(this.denseNode)); } });
        this.CONSUME(Tok.RBracket);
        return { k: 'list', items, tok } as DenseNode;
      },
    },
    {
      // `(re,im)`: one complex element (checked against the literal's type by readDense).
      ALT: () => {
        const tok = this.CONSUME(Tok.LParen);
        const re = this.SUBRULE2(this.denseNode);
        this.CONSUME(Tok.Comma);
        const im = this.SUBRULE3(this.denseNode);
        this.CONSUME(Tok.RParen);
        return { k: 'complex', re, im, tok } as DenseNode;
      },
    },
    { ALT: () => { const tok = this.CONSUME(Tok.Integer); return { k: 'num', text: tok.image, tok } as DenseNode; } },
    { ALT: () => { const tok = this.CONSUME(Tok.Float); return { k: 'num', text: tok.image, tok } as DenseNode; } },
    { ALT: () => { const tok = this.CONSUME(Tok.Hex); return { k: 'hex', text: tok.image, tok } as DenseNode; } },
    { ALT: () => { const tok = this.CONSUME(Tok.True); return { k: 'bool', v: true, tok } as DenseNode; } },
    { ALT: () => { const tok = this.CONSUME(Tok.False); return { k: 'bool', v: false, tok } as DenseNode; } },
    { ALT: () => { const tok = this.CONSUME(Tok.StringLit); return { k: 'str', v: unquote(tok.image), tok } as DenseNode; } },
  ]));

  typeAtom = this.RULE('typeAtom', (): IToken => this.OR([
    { ALT: () => this.CONSUME(Tok.TensorType) },
    { ALT: () => this.CONSUME(Tok.BangType) },
  ]));

  /** `(A, B) -> C`, `A, B -> (C, D)`, `A, B`, `A`, `() -> C`. */
  typeSig = this.RULE('typeSig', (): TypeSig => {
    const inputs: IToken[] = [];
    let results: IToken[] | undefined;
    let parenthesized = false;
    const tok = this.LA(1);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Tok.LParen);
          parenthesized = true;
          this.MANY_SEP({ SEP: Tok.Comma, DEF: () => { inputs.push(this.SUBRULE(this.typeAtom)); } });
          this.CONSUME(Tok.RParen);
          results = this.SUBRULE(this.resultTypes);
        },
      },
      {
        ALT: () => {
          inputs.push(this.SUBRULE2(this.typeAtom));
          this.MANY(() => { this.CONSUME(Tok.Comma); inputs.push(this.SUBRULE5(this.typeAtom)); });
          this.OPTION(() => { results = this.SUBRULE2(this.resultTypes); });
        },
      },
    ]);
    return { inputs, results, parenthesized, tok };
  });

  /** `-> C` or `-> (C, D)`. */
  resultTypes = this.RULE('resultTypes', (): IToken[] => {
    const results: IToken[] = [];
    this.CONSUME(Tok.Arrow);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Tok.LParen);
          this.MANY_SEP({ SEP: Tok.Comma, DEF: () => { results.push(this.SUBRULE(this.typeAtom)); } });
          this.CONSUME(Tok.RParen);
        },
      },
      { ALT: () => { results.push(this.SUBRULE2(this.typeAtom)); } },
    ]);
    return results;
  });
}

/** Removes the quotes

 of a string literal and resolves its escapes. */
export function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(["\\nt]|[0-9A-Fa-f]{2})/g, (_, e: string) => {
    if (e === 'n') return '\n';
    if (e === 't') return '\t';
    if (e.length === 2) return String.fromCharCode(parseInt(e, 16));
    return e;
  });
}

/** One shared instance: building a Chevrotain parser runs a grammar analysis that is not free. */
export const grammar = new StablehloGrammar();
