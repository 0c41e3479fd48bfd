/**
 * The `where:` filter grammar: text -> expression tree, or the first problem at its offset.
 * Never evaluated as code: a tokenizer reads the text, a recursive-descent parser builds the
 * tree, and `transforms/filter-rows.ts` evaluates it on typed values.
 *
 * ```
 * expression := or
 * or         := and ("or" and)*
 * and        := unary ("and" unary)*
 * unary      := "not" unary | "(" expression ")" | test
 * test       := column "=" | "!=" | "<" | "<=" | ">" | ">=" value
 *             | column "in" "[" value ("," value)* "]"
 *             | column "contains" value
 *             | column "~" /pattern/flags
 *             | column "is" ["not"] "empty"
 * column     := a column expression as `extract:` takes it, or an output column name; quoted
 *               ("..." or '...') when it holds spaces
 * value      := a word (CT, 50, 20260101, 1.2.840.10008.5.1.4.1.1.2) or a quoted string
 * ```
 *
 * The words `and`, `or`, `not`, `in`, `contains`, `is`, `empty` are case-insensitive. Inside
 * quotes a quote is doubled (`'it''s'`); a backslash is itself (`'ORIGINAL\PRIMARY'`).
 *
 * The lexer has modes, as the same characters mean different things by position: in a column
 * (`ExposureDoseSequence[0].CTDIvol`, `0018,9345`, `(0018,9345)`, `sr:113819[*]/113829`)
 * brackets, commas and parentheses belong to the column; in a value list they separate values.
 */
import type { ColumnSpec } from '../records.js'

/** The comparison operators. */
export const COMPARE_OPS = ['=', '!=', '<', '<=', '>', '>='] as const
export type CompareOp = (typeof COMPARE_OPS)[number]

/** A column as written in the expression, at its offset (0-based, in UTF-16 units). */
export interface ColumnRef {
  text: string
  at: number
}

/** A column resolved to its place in the row a reader makes (`pipeline/where-columns.ts`). */
export interface BoundColumn extends ColumnRef {
  /** Its index in the projected row: an extracted column, or a hidden one after them. */
  index: number
  /** Whether it holds a list (VM > 1, or `[*]`): `contains` then looks for an element. */
  list: boolean
}

/** A value as written: its text (quotes removed), whether it was quoted, its offset. */
export interface Literal {
  text: string
  quoted: boolean
  at: number
}

/** An expression of the grammar; `C` is {@link ColumnRef} as parsed, {@link BoundColumn} once resolved. */
export type WhereExpr<C extends ColumnRef = ColumnRef> =
  | { kind: 'and' | 'or'; items: WhereExpr<C>[]; at: number }
  | { kind: 'not'; item: WhereExpr<C>; at: number }
  | { kind: 'compare'; op: CompareOp; column: C; value: Literal; at: number }
  | { kind: 'in'; column: C; values: Literal[]; at: number }
  | { kind: 'contains'; column: C; value: Literal; at: number }
  | { kind: 'match'; column: C; pattern: string; flags: string; at: number }
  | { kind: 'empty'; column: C; at: number }

/**
 * A resolved filter, as a pipeline carries it to its readers: plain data (it crosses to the
 * reader threads by structured clone).
 */
export interface RowFilter {
  /** The expression as written (two filters joined: `(a) and (b)`); part of an incremental run's state signature. */
  text: string
  expr: WhereExpr<BoundColumn>
  /** Columns read only for the filter: projected after the extracted ones and dropped before the sink. */
  hidden: ColumnSpec[]
}

/** A problem with an expression: where (0-based offset in its text) and what. */
export interface WhereProblem {
  at: number
  message: string
}

export type WhereResult = { ok: true; expr: WhereExpr } | { ok: false; problem: WhereProblem }

/** The regular expression flags a pattern may carry (`g` and `y` keep state between rows: refused). */
export const REGEX_FLAGS = 'imsu'

const WORDS = ['and', 'or', 'not', 'in', 'contains', 'is', 'empty'] as const
type Word = (typeof WORDS)[number]

/** A token: a word (of a column or value), a quoted string, a regex, a symbol, or the end. */
interface Token {
  kind: 'word' | 'string' | 'regex' | 'symbol' | 'end'
  text: string
  at: number
  end: number
  /** A regex's flags. */
  flags?: string
}

/** What the parser expects next: the lexer reads the same characters differently in each. */
type Mode = 'column' | 'value' | 'operator'

/** A `(gggg,eeee)` tag at the start of a column, told apart from a grouping parenthesis. */
const PAREN_TAG = /^\(\s*[0-9A-Fa-f]{4}\s*,\s*[0-9A-Fa-f]{4}\s*\)/
const SPACE = /\s/

class SyntaxProblem extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message)
  }
}

/** The tokenizer: reads one token at a time, in the mode the parser asks for. */
class Lexer {
  private pos = 0
  constructor(private readonly text: string) {}

  /** The token at the current position, without taking it. */
  peek(mode: Mode): Token {
    const saved = this.pos
    const token = this.next(mode)
    this.pos = saved
    return token
  }

  next(mode: Mode): Token {
    const text = this.text
    while (this.pos < text.length && SPACE.test(text[this.pos])) this.pos++
    const at = this.pos
    if (at >= text.length) return { kind: 'end', text: '', at, end: at }
    const c = text[at]
    if (c === '"' || c === "'") return this.quoted(c)
    if (mode === 'column') {
      const tag = PAREN_TAG.exec(text.slice(at))
      if (tag) return this.take('word', at, at + tag[0].length)
      if (c === '(' || c === ')') return this.take('symbol', at, at + 1)
      return this.columnWord()
    }
    if (mode === 'value' && c === '/') return this.regex()
    const two = text.slice(at, at + 2)
    if (two === '!=' || two === '<=' || two === '>=') return this.take('symbol', at, at + 2)
    if ('=<>~()[],'.includes(c) || c === '!') return this.take('symbol', at, at + 1)
    let end = at
    while (end < text.length && !SPACE.test(text[end]) && !'=!<>~()[],"\''.includes(text[end])) end++
    return this.take('word', at, end)
  }

  private take(kind: Token['kind'], at: number, end: number): Token {
    this.pos = end
    return { kind, text: this.text.slice(at, end), at, end }
  }

  /** A column: up to a space or an operator outside brackets (`Seq[code=113819].X` keeps its `=`). */
  private columnWord(): Token {
    const text = this.text
    const at = this.pos
    let end = at
    let depth = 0
    for (; end < text.length; end++) {
      const c = text[end]
      if (c === '[') depth++
      else if (c === ']' && depth > 0) depth--
      else if (depth === 0 && (SPACE.test(c) || '=!<>~()"\''.includes(c))) break
    }
    if (end === at) return this.take('symbol', at, at + 1)
    return this.take('word', at, end)
  }

  /** `'...'` or `"..."`, the quote doubled inside. */
  private quoted(quote: string): Token {
    const text = this.text
    const at = this.pos
    let value = ''
    for (let i = at + 1; i < text.length; i++) {
      if (text[i] !== quote) value += text[i]
      else if (text[i + 1] === quote) {
        value += quote
        i++
      } else {
        this.pos = i + 1
        return { kind: 'string', text: value, at, end: i + 1 }
      }
    }
    throw new SyntaxProblem(at, `unclosed quote: add a ${quote} at the end of the value`)
  }

  /** `/pattern/flags`; a slash inside is escaped (`\/`). */
  private regex(): Token {
    const text = this.text
    const at = this.pos
    let i = at + 1
    for (; i < text.length && text[i] !== '/'; i++) if (text[i] === '\\') i++
    if (i >= text.length) throw new SyntaxProblem(at, 'unclosed regular expression: end it with /')
    let end = i + 1
    while (end < text.length && /[A-Za-z]/.test(text[end])) end++
    const flags = text.slice(i + 1, end)
    for (const [k, flag] of [...flags].entries()) {
      if (!REGEX_FLAGS.includes(flag) || flags.indexOf(flag) !== k) {
        throw new SyntaxProblem(
          i + 1 + k,
          `regular expression flag "${flag}" is not one of ${[...REGEX_FLAGS].join(', ')}`,
        )
      }
    }
    const pattern = text.slice(at + 1, i)
    try {
      new RegExp(pattern, flags)
    } catch (err) {
      const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')
      throw new SyntaxProblem(at, `invalid regular expression /${pattern}/: ${reason}`)
    }
    this.pos = end
    return { kind: 'regex', text: pattern, at, end, flags }
  }
}

/** The word a token is (`and`, `not`...), case-insensitive; undefined for any other token. */
function wordOf(token: Token): Word | undefined {
  if (token.kind !== 'word') return undefined
  const lower = token.text.toLowerCase()
  return (WORDS as readonly string[]).includes(lower) ? (lower as Word) : undefined
}

/** What a token is, for messages. */
function shown(token: Token): string {
  if (token.kind === 'regex') return `/${token.text}/${token.flags ?? ''}`
  return token.kind === 'end' ? 'the end' : `"${token.text}"`
}

/** The recursive-descent parser over the lexer. */
class Parser {
  private readonly lexer: Lexer
  constructor(text: string) {
    this.lexer = new Lexer(text)
  }

  parse(): WhereExpr {
    const expr = this.or()
    const next = this.lexer.next('operator')
    if (next.kind !== 'end') {
      const hint =
        next.text === ')'
          ? ' (a ")" without its "(")'
          : next.text === '&&' || next.text === '||'
            ? ` (write "${next.text === '&&' ? 'and' : 'or'}")`
            : next.kind === 'word' && !wordOf(next)
              ? ' (quote a value that holds spaces)'
              : ''
      throw new SyntaxProblem(next.at, `expected "and", "or" or the end, got ${shown(next)}${hint}`)
    }
    return expr
  }

  private or(): WhereExpr {
    return this.chain('or', () => this.and())
  }

  private and(): WhereExpr {
    return this.chain('and', () => this.unary())
  }

  private chain(word: 'and' | 'or', item: () => WhereExpr): WhereExpr {
    const first = item()
    const items = [first]
    while (wordOf(this.lexer.peek('operator')) === word) {
      this.lexer.next('operator')
      items.push(item())
    }
    return items.length === 1 ? first : { kind: word, items, at: first.at }
  }

  private unary(): WhereExpr {
    const token = this.lexer.peek('column')
    if (wordOf(token) === 'not') {
      this.lexer.next('column')
      return { kind: 'not', item: this.unary(), at: token.at }
    }
    if (token.kind === 'symbol' && token.text === '(') {
      this.lexer.next('column')
      const expr = this.or()
      const close = this.lexer.next('operator')
      if (close.kind !== 'symbol' || close.text !== ')') {
        if (close.kind === 'end') throw new SyntaxProblem(token.at, 'unclosed "(": add a ")"')
        throw new SyntaxProblem(close.at, `expected "and", "or" or ")", got ${shown(close)}`)
      }
      return expr
    }
    return this.test()
  }

  private test(): WhereExpr {
    const token = this.lexer.next('column')
    const word = wordOf(token)
    if ((token.kind !== 'word' && token.kind !== 'string') || word !== undefined) {
      throw new SyntaxProblem(token.at, `expected a column, got ${shown(token)}`)
    }
    const column: ColumnRef = { text: token.text, at: token.at }
    const at = token.at
    const op = this.lexer.next('operator')
    const opWord = wordOf(op)
    if (op.kind === 'symbol' && (COMPARE_OPS as readonly string[]).includes(op.text)) {
      return { kind: 'compare', op: op.text as CompareOp, column, value: this.value(op), at }
    }
    if (op.kind === 'symbol' && op.text === '~') {
      const pattern = this.lexer.next('value')
      if (pattern.kind !== 'regex') {
        throw new SyntaxProblem(
          pattern.at,
          `expected a regular expression like /thorax/i after "~", got ${shown(pattern)}`,
        )
      }
      return { kind: 'match', column, pattern: pattern.text, flags: pattern.flags ?? '', at }
    }
    if (opWord === 'contains') return { kind: 'contains', column, value: this.value(op), at }
    if (opWord === 'in') return { kind: 'in', column, values: this.list(op), at }
    if (opWord === 'is') {
      let next = this.lexer.next('operator')
      const negated = wordOf(next) === 'not'
      if (negated) next = this.lexer.next('operator')
      if (wordOf(next) !== 'empty') {
        throw new SyntaxProblem(next.at, `expected "empty" after "is${negated ? ' not' : ''}", got ${shown(next)}`)
      }
      const empty: WhereExpr = { kind: 'empty', column, at }
      return negated ? { kind: 'not', item: empty, at } : empty
    }
    throw new SyntaxProblem(
      op.at,
      `expected =, !=, <, <=, >, >=, in, contains, ~ or "is empty" after "${column.text}", got ${shown(op)}`,
    )
  }

  /** The value after an operator. */
  private value(after: Token): Literal {
    const token = this.lexer.next('value')
    if (token.kind === 'word' || token.kind === 'string') {
      return { text: token.text, quoted: token.kind === 'string', at: token.at }
    }
    const hint =
      token.kind === 'regex'
        ? ' (a regular expression goes with "~"; quote a value that starts with /)'
        : token.text === '='
          ? ' (equality is a single "=")'
          : ''
    throw new SyntaxProblem(token.at, `expected a value after "${after.text}", got ${shown(token)}${hint}`)
  }

  /** `[a, b, ...]` after `in`. */
  private list(after: Token): Literal[] {
    const open = this.lexer.next('value')
    if (open.kind !== 'symbol' || open.text !== '[') {
      throw new SyntaxProblem(open.at, `expected a list like [CT, MR] after "${after.text}", got ${shown(open)}`)
    }
    const values: Literal[] = []
    for (;;) {
      const token = this.lexer.peek('value')
      if (token.kind === 'symbol' && token.text === ']' && values.length === 0) {
        throw new SyntaxProblem(token.at, 'an empty list: name at least one value')
      }
      values.push(this.value(values.length === 0 ? open : { ...token, text: ',' }))
      const next = this.lexer.next('value')
      if (next.kind === 'symbol' && next.text === ']') return values
      if (next.kind === 'end') throw new SyntaxProblem(open.at, 'unclosed "[": add a "]"')
      if (next.kind !== 'symbol' || next.text !== ',') {
        throw new SyntaxProblem(next.at, `expected "," or "]" in the list, got ${shown(next)}`)
      }
    }
  }
}

/**
 * Parses a filter expression. Never throws on bad input: the first problem comes back with its
 * offset in `text` (0-based; `text.length` for "the end").
 */
export function parseWhere(text: string): WhereResult {
  if (text.trim() === '')
    return { ok: false, problem: { at: 0, message: 'an empty filter: write a test like Modality = CT' } }
  try {
    return { ok: true, expr: new Parser(text).parse() }
  } catch (err) {
    if (err instanceof SyntaxProblem) return { ok: false, problem: { at: err.at, message: err.message } }
    throw err
  }
}

/** Every column an expression names, in order of appearance. */
export function whereColumns<C extends ColumnRef>(expr: WhereExpr<C>): C[] {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return expr.items.flatMap((item) => whereColumns(item))
    case 'not':
      return whereColumns(expr.item)
    default:
      return [expr.column]
  }
}

/**
 * An expression as a short S-expression, for tests and messages:
 * `(and (= Modality "CT") (not (contains ImageType "LOCALIZER")))`.
 */
export function showWhere(expr: WhereExpr): string {
  const literal = (v: Literal) => (v.quoted ? `'${v.text}'` : v.text)
  switch (expr.kind) {
    case 'and':
    case 'or':
      return `(${expr.kind} ${expr.items.map(showWhere).join(' ')})`
    case 'not':
      return `(not ${showWhere(expr.item)})`
    case 'compare':
      return `(${expr.op} ${expr.column.text} ${literal(expr.value)})`
    case 'in':
      return `(in ${expr.column.text} [${expr.values.map(literal).join(' ')}])`
    case 'contains':
      return `(contains ${expr.column.text} ${literal(expr.value)})`
    case 'match':
      return `(~ ${expr.column.text} /${expr.pattern}/${expr.flags})`
    case 'empty':
      return `(empty ${expr.column.text})`
  }
}
