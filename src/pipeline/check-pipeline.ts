/**
 * The checker of a parsed pipeline document against the declared keys (`pipelineSchema`):
 * generic over the field types of `fields.ts`, it walks the YAML nodes beside the declared
 * types, gathers every problem at its offset, and fills in defaults.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type YAMLMap } from 'yaml'
import { closest } from '../suggest.js'
import type { Field, FieldType, MappingType, ValueOf } from './fields.js'
import { pipelineSchema } from './schema.js'

/** A checked pipeline file; holes are `undefined`. */
export type CheckedPipeline = ValueOf<typeof pipelineSchema, undefined>

/** What `checkPipeline` found. */
export interface CheckResult {
  /** Undefined when the document is not a mapping. */
  value: CheckedPipeline | undefined
  /** The node of each checked key path (`extract[1].keyword`), to place later problems. */
  nodes: Map<string, Node>
}

/** Receives each problem with the text offset it is about. */
export type Report = (offset: number, message: string) => void

/**
 * Checks a parsed pipeline document against `pipelineSchema`: unknown keys (with the closest
 * known key), missing required keys, types, ranges and empty lists. Every problem goes to
 * `report`; a value with a problem becomes a hole (`undefined`) and checking goes on. Absent
 * keys take their defaults. Keys repeated in a mapping are skipped: YAML reports them.
 */
export function checkPipeline(doc: Document, report: Report): CheckResult {
  const checker = new Checker(doc, report)
  const value = checker.check(doc.contents ?? undefined, pipelineSchema, '', 0) as CheckedPipeline | undefined
  return { value, nodes: checker.nodes }
}

class Checker {
  readonly nodes = new Map<string, Node>()
  /** Nodes being checked, to stop at an alias inside its own anchor (`&a [*a]`). */
  private readonly open = new Set<Node>()

  constructor(
    private readonly doc: Document,
    private readonly report: Report,
  ) {}

  /** Checks a node found at `path`; `at` places problems about an absent node (`key:` alone). */
  check(found: Node | undefined, type: FieldType, path: string, at: number): unknown {
    let node = found
    if (isAlias(found)) {
      node = found.resolve(this.doc)
      const offset = found.range?.[0] ?? at
      if (!node) return this.problem(offset, `${name(path)}: no anchor &${found.source} before this alias`)
      if (this.open.has(node)) return this.problem(offset, `${name(path)}: alias *${found.source} is inside its anchor`)
    }
    if (!node) return this.wrong(node, at, path, type)
    this.nodes.set(path, node)
    this.open.add(node)
    const value = this.value(node, type, path)
    this.open.delete(node)
    return value
  }

  private value(node: Node, type: FieldType, path: string): unknown {
    const offset = node.range?.[0] ?? 0
    const scalar = isScalar(node) ? node.value : undefined
    switch (type.kind) {
      case 'string':
        if (typeof scalar !== 'string') return this.wrong(node, offset, path, type)
        return scalar === '' ? this.problem(offset, `${name(path)} must not be empty`) : scalar
      case 'integer': {
        const ok = typeof scalar === 'number' && Number.isInteger(scalar) && scalar >= type.min && scalar <= type.max
        const word = typeof scalar === 'string' && type.words?.includes(scalar)
        return ok || word ? scalar : this.wrong(node, offset, path, type)
      }
      case 'number':
        return typeof scalar === 'number' && Number.isFinite(scalar) && scalar >= type.min && scalar <= type.max
          ? scalar
          : this.wrong(node, offset, path, type)
      case 'boolean':
        return typeof scalar === 'boolean' ? scalar : this.wrong(node, offset, path, type)
      case 'enum':
        return typeof scalar === 'string' && (type.values.includes(scalar) || type.pattern?.regex.test(scalar))
          ? scalar
          : this.wrong(node, offset, path, type)
      case 'list':
        if (type.single && typeof scalar === 'string') return [this.value(node, type.items, path)]
        if (!isSeq(node)) return this.wrong(node, offset, path, type)
        if (type.nonEmpty && node.items.length === 0) return this.problem(offset, `${name(path)} must not be empty`)
        return node.items.map((item, i) => this.check(item as Node, type.items, `${path}[${i}]`, offset))
      case 'either':
        if (isMap(node)) return this.value(node, type.mapping, path)
        if (typeof scalar === 'string') return this.value(node, type.scalar, path)
        return this.wrong(node, offset, path, type)
      case 'mapping':
        return isMap(node) ? this.mapping(node, type, path, offset) : this.wrong(node, offset, path, type)
      case 'map': {
        if (!isMap(node)) return this.wrong(node, offset, path, type)
        const value: Record<string, unknown> = {}
        for (const pair of node.items) {
          const key = pair.key as Node
          const keyName = isScalar(key) ? String(key.value) : String(key)
          if (Object.hasOwn(value, keyName)) continue
          const child = (pair.value ?? undefined) as Node | undefined
          value[keyName] = this.check(child, type.values, `${path}.${keyName}`, key.range?.[0] ?? offset)
        }
        return value
      }
    }
  }

  private mapping(node: YAMLMap, type: MappingType, path: string, offset: number): Record<string, unknown> {
    const where = path ? ` in ${path}` : ''
    const value: Record<string, unknown> = {}
    const seen = new Map<string, number>()
    const suggested = new Set<string>()
    for (const pair of node.items) {
      const key = pair.key as Node
      const keyName = isScalar(key) ? String(key.value) : String(key)
      const keyOffset = key.range?.[0] ?? offset
      if (seen.has(keyName)) continue
      seen.set(keyName, keyOffset)
      if (!Object.hasOwn(type.fields, keyName)) {
        const known = Object.keys(type.fields)
        const suggestion = closest(keyName, known)
        if (suggestion) suggested.add(suggestion)
        const hint = suggestion ? `did you mean "${suggestion}"?` : `expected one of: ${known.join(', ')}`
        this.problem(keyOffset, `unknown key "${keyName}"${where} (${hint})`)
        continue
      }
      const child = (pair.value ?? undefined) as Node | undefined
      value[keyName] = this.check(child, type.fields[keyName].type, path ? `${path}.${keyName}` : keyName, keyOffset)
    }
    // A key missing because it was misspelt is reported once, as the misspelling.
    for (const [key, field] of Object.entries(type.fields)) {
      if (seen.has(key) || suggested.has(key)) continue
      if (field.required) this.problem(offset, `missing required key "${key}"${where}`)
      else value[key] = defaultOf(field)
    }
    if (type.exactlyOne) {
      const given = type.exactlyOne.filter((key) => seen.has(key))
      const quoted = (keys: readonly string[], word: string) =>
        keys.length < 2
          ? `"${keys.join('')}"`
          : `${keys
              .slice(0, -1)
              .map((key) => `"${key}"`)
              .join(', ')} ${word} "${keys[keys.length - 1]}"`
      if (given.length > 1) {
        this.problem(
          Math.max(...given.map((key) => seen.get(key) ?? offset)),
          `${name(path)} has ${given.length === 2 ? 'both ' : ''}${quoted(given, 'and')}: keep one`,
        )
      } else if (given.length === 0 && !type.exactlyOne.some((key) => suggested.has(key))) {
        this.problem(offset, `missing required key ${quoted(type.exactlyOne, 'or')}${where}`)
      }
    }
    return value
  }

  /** "`path` must be `noun`, got `what`", with a hint when quotes would make it right. */
  private wrong(node: Node | undefined, offset: number, path: string, type: FieldType): undefined {
    const wantsText = type.kind === 'string' || type.kind === 'either' || (type.kind === 'list' && type.single)
    const hint = wantsText && isScalar(node) && node.value !== null ? ' (quote it to make it text)' : ''
    return this.problem(offset, `${name(path)} must be ${noun(type)}, got ${describe(node)}${hint}`)
  }

  private problem(offset: number, message: string): undefined {
    this.report(offset, message)
    return undefined
  }
}

/** What a value of a type is, for messages. */
function noun(type: FieldType): string {
  switch (type.kind) {
    case 'string':
      return 'a string'
    case 'integer':
      return `an integer from ${type.min} to ${type.max}${(type.words ?? []).map((w) => ` or "${w}"`).join('')}`
    case 'number':
      return `a number from ${type.min} to ${type.max}`
    case 'boolean':
      return 'true or false'
    case 'enum':
      return [...type.values.map((v) => `"${v}"`), ...(type.pattern ? [type.pattern.name] : [])].join(' or ')
    case 'mapping': {
      const required = Object.keys(type.fields).filter((key) => type.fields[key].required)
      if (required.length === 0) return 'a mapping'
      return `a mapping with ${required.length === 1 ? 'key' : 'keys'} ${required.join(' and ')}`
    }
    case 'map':
      return `a mapping of ${type.keyNoun} to ${noun(type.values)}`
    case 'list':
    case 'either':
      return type.noun
  }
}

/** The value of an absent key: its default, or for a mapping without required keys, their defaults. */
function defaultOf(field: Field): unknown {
  if (field.default !== undefined) return structuredClone(field.default)
  const type = field.type
  if (type.kind !== 'mapping' || Object.values(type.fields).some((f) => f.required)) return undefined
  return Object.fromEntries(
    Object.entries(type.fields)
      .map(([key, f]) => [key, defaultOf(f)])
      .filter(([, v]) => v !== undefined),
  )
}

function name(path: string): string {
  return path || 'the pipeline'
}

/** What was found instead; scalars as written. */
function describe(node: Node | undefined): string {
  if (isMap(node)) return 'a mapping'
  if (isSeq(node)) return 'a list'
  if (!isScalar(node)) return 'nothing'
  if (node.value === null) return 'an empty value'
  if (typeof node.value === 'string') return JSON.stringify(node.value)
  return node.source ?? String(node.value)
}
