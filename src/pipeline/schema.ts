/**
 * The keys of a pipeline YAML file, each declared once as data (type, default, doc, example),
 * as benthos's field specs and vector's configurables are. Both the checking of a parsed
 * document (`checkPipeline`) and the README's key table (`schemaMarkdown`) are derived from
 * `pipelineSchema`, so they cannot disagree. Meaning that spans keys (DICOM keywords, column
 * names, paths) is checked by `load.ts`.
 */
import { closest } from '../suggest.js'
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type YAMLMap } from 'yaml'
import { AGGREGATE_DOCS, AGGREGATE_OPS } from '../metrics/aggregate.js'
import { REGIONS } from '../metrics/effective-dose.js'
import { DEFAULT_SORT_MEMORY_MB, PSEUDO_COLUMNS, ROWS_PER } from './spec.js'
import { OUTPUT_FORMATS, SINKS } from '../sinks/registry.js'

/** The type of a key's value. */
export type FieldType =
  | { readonly kind: 'string' }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | ListType
  | MappingType
  | EitherType

/** A YAML sequence. */
export interface ListType {
  readonly kind: 'list'
  readonly items: FieldType
  /** What the value must be, for messages ("a list of columns"). */
  readonly noun: string
  /** A single item may be written without the list around it. */
  readonly single?: boolean
  readonly nonEmpty?: boolean
}

/** A YAML mapping with known keys; any other key is a problem. */
export interface MappingType {
  readonly kind: 'mapping'
  readonly fields: Fields
  /** Exactly one of these keys must be given. */
  readonly exactlyOne?: readonly string[]
}

/** A short form written as a plain string, or the full form written as a mapping. */
export interface EitherType {
  readonly kind: 'either'
  readonly scalar: FieldType
  readonly mapping: MappingType
  readonly noun: string
}

/** One key: its type, its default (when it has one), and its documentation. */
export interface Field {
  readonly type: FieldType
  readonly doc: string
  readonly required?: boolean
  readonly default?: unknown
  /** A YAML snippet showing the key in use. */
  readonly example?: string
}

/** The keys of a mapping. */
export type Fields = Readonly<Record<string, Field>>

const string = { kind: 'string' } as const
const boolean = { kind: 'boolean' } as const

/** Every key of a pipeline file. */
export const pipelineSchema = {
  kind: 'mapping',
  fields: {
    source: {
      required: true,
      doc: 'Which files to read.',
      type: {
        kind: 'mapping',
        fields: {
          paths: {
            required: true,
            doc: 'Folders, files or glob patterns, relative to the pipeline file. A single string is accepted too.',
            example: 'paths: [../samples]',
            type: { kind: 'list', noun: 'a path or a list of paths', single: true, nonEmpty: true, items: string },
          },
          ignore: {
            default: [],
            doc: 'Glob patterns of files to leave out.',
            example: "ignore: ['**/*.txt']",
            type: { kind: 'list', noun: 'a list of glob patterns', items: string },
          },
          concurrency: {
            doc:
              'Files read at once at most. By default one per reader thread, read synchronously: the fastest on local ' +
              'disks and warm caches. On network or cold storage raise it (e.g. 64): many reads in flight hide latency.',
            example: 'concurrency: 64',
            type: { kind: 'integer', min: 1, max: 1024 },
          },
          threads: {
            doc:
              'Worker threads that read headers and make rows, beside the main thread (which reads too), once ' +
              'a job has more than 256 files. By default the number of CPUs less one (at least 1); 0 reads in ' +
              'the main thread only.',
            example: 'threads: 3',
            type: { kind: 'integer', min: 0, max: 64 },
          },
          follow_symlinks: {
            default: false,
            doc: 'Follow symbolic links to files and folders.',
            example: 'follow_symlinks: true',
            type: boolean,
          },
          hidden: {
            default: false,
            doc: 'Include files and folders whose name starts with a dot.',
            example: 'hidden: true',
            type: boolean,
          },
          allow_empty: {
            default: false,
            doc:
              'Succeed when no file is found (an empty folder, a pattern that matches nothing, an unmounted ' +
              'share, everything left out by `ignore` or `--since`), writing a CSV of the header alone. By ' +
              'default that fails with E_NO_FILES (exit 66) and leaves the previous output, errors file and ' +
              'state as they were.',
            example: 'allow_empty: true',
            type: boolean,
          },
        },
      },
    },
    extract: {
      required: true,
      doc:
        'The columns, in CSV order. Each is a DICOM keyword, a tag, or a pseudo-column ' +
        `(${PSEUDO_COLUMNS.join(', ')}), or a mapping of \`keyword\` or \`tag\`, and \`as\`.`,
      example: "extract: [SeriesInstanceUID, '0018,9345', path]",
      type: {
        kind: 'list',
        noun: 'a list of columns',
        nonEmpty: true,
        items: {
          kind: 'either',
          noun: 'a keyword, a tag, a pseudo-column or a mapping',
          scalar: string,
          mapping: {
            kind: 'mapping',
            exactlyOne: ['keyword', 'tag'],
            fields: {
              keyword: {
                doc: 'A DICOM keyword (as spelled in PS3.6), a path into sequences, or a pseudo-column.',
                example: 'keyword: ExposureDoseSequence[0].CTDIvol',
                type: string,
              },
              tag: {
                doc: 'A tag as group,element in hexadecimal. Quote it.',
                example: "tag: '0018,1150'",
                type: string,
              },
              creator: {
                doc: "The Private Creator of a private tag written with `xx` for its block, found in each file; with `tag: '0019,xx23'`.",
                example: 'creator: GEMS_ACQU_01',
                type: string,
              },
              as: {
                doc: 'The CSV header of the column, instead of the keyword (or of the tag, when it has none).',
                example: 'as: CTDIvol_mGy',
                type: string,
              },
            },
          },
        },
      },
    },
    rows: {
      default: 'per_file',
      doc:
        'What one row stands for: a file, or each frame of a multi-frame image (`per_frame`). Per frame, an ' +
        "Enhanced image's attributes come from its frame's functional groups over the shared ones over the top " +
        'level, addressed by plain keywords (`ImagePositionPatient`, `CTDIvol`, `FrameAcquisitionDateTime`); a ' +
        'classic multi-frame image gives NumberOfFrames rows of its top-level values; the `frame` column numbers ' +
        'them from 1.',
      example: 'rows: per_frame',
      type: { kind: 'enum', values: ROWS_PER },
    },
    sort: {
      doc:
        'Sort the rows. The sorter holds rows in memory up to `memory_mb`; beyond it, it writes them in sorted ' +
        'runs to a folder in the temporary folder (`TMPDIR`), merged at the end and always removed.',
      type: {
        kind: 'mapping',
        fields: {
          by: {
            doc:
              'Column names as in the CSV header (after `as`), most significant first. Required unless `group_by` or ' +
              '`dose` sorts the rows; with them, it orders the rows that tie on what they sort by.',
            example: 'by: [SeriesInstanceUID, {column: SliceLocation, order: desc}]',
            type: {
              kind: 'list',
              noun: 'a list of column names',
              nonEmpty: true,
              items: {
                kind: 'either',
                noun: 'a column name or a mapping',
                scalar: string,
                mapping: {
                  kind: 'mapping',
                  fields: {
                    column: { required: true, doc: 'A column name.', example: 'column: SliceLocation', type: string },
                    order: {
                      default: 'asc',
                      doc: 'Ascending or descending.',
                      example: 'order: desc',
                      type: { kind: 'enum', values: ['asc', 'desc'] },
                    },
                  },
                },
              },
            },
          },
          memory_mb: {
            default: DEFAULT_SORT_MEMORY_MB,
            doc:
              'The memory the sorter holds rows in, in MiB, before it writes them to disk in sorted runs. The ' +
              "process's peak memory is about this plus Node's own (some 100 MB).",
            example: 'memory_mb: 256',
            type: { kind: 'integer', min: 1, max: 65536 },
          },
        },
      },
    },
    group_by: {
      doc:
        'One row per group of rows with equal cells in these columns (names as in the CSV header), which are its ' +
        'first columns. The rows are sorted by these columns first, so groups come out in that order, one after ' +
        'another, without being held. A single name is accepted too.',
      example: 'group_by: [PatientID, SeriesInstanceUID]',
      type: {
        kind: 'list',
        noun: 'a column name or a list of column names',
        single: true,
        nonEmpty: true,
        items: string,
      },
    },
    aggregate: {
      doc: 'Columns computed over the rows of each group, after the `group_by` columns. Empty cells are skipped.',
      example: 'aggregate: [{column: CTDIvol_mGy, op: max, as: CTDIvol_max_mGy}]',
      type: {
        kind: 'list',
        noun: 'a list of mappings',
        nonEmpty: true,
        items: {
          kind: 'mapping',
          fields: {
            column: { required: true, doc: 'An extracted column.', example: 'column: CTDIvol_mGy', type: string },
            op: {
              required: true,
              doc: AGGREGATE_OPS.map((op) => `\`${op}\`: ${AGGREGATE_DOCS[op]}`).join('; ') + '.',
              example: 'op: mean',
              type: { kind: 'enum', values: AGGREGATE_OPS },
            },
            as: {
              doc: 'The CSV header of the aggregate; by default the operation and the column (`max_CTDIvol_mGy`).',
              example: 'as: CTDIvol_max_mGy',
              type: string,
            },
          },
        },
      },
    },
    dose: {
      doc:
        'Dose columns computed from CT image headers (see "Dose metrics"): per slice, or per series with ' +
        '`group_by`. It reads ImageType, ImageOrientationPatient, ImagePositionPatient, SliceLocation, CTDIvol ' +
        'and SeriesInstanceUID, which must be extracted (under any name), and SliceThickness when it is.',
      example: 'dose: {region: auto}',
      type: {
        kind: 'mapping',
        fields: {
          region: {
            default: 'auto',
            doc:
              'The body region whose k-factor gives the effective dose estimate; `auto` maps BodyPartExamined ' +
              '(then extracted too) to a region.',
            example: 'region: CHEST',
            type: { kind: 'enum', values: ['auto', ...REGIONS] },
          },
        },
      },
    },
    state: {
      doc:
        'A state file for incremental runs, relative to the pipeline file: files read before and unchanged ' +
        '(size, mtime) are not read again; their rows come from the state. `--full` ignores it.',
      example: 'state: out/dose.state',
      type: string,
    },
    format: {
      doc: 'How cells are written. Every default keeps values as DICOM stores them.',
      type: {
        kind: 'mapping',
        fields: {
          separator: {
            doc: 'Joins multiple values in a cell. Default a backslash.',
            example: "separator: '|'",
            type: string,
          },
          dates: {
            default: 'stored',
            doc: 'DA, TM and DT as stored (`20240312`) or as ISO 8601 (`2024-03-12`, `09:28:15.672`).',
            example: 'dates: iso',
            type: { kind: 'enum', values: ['stored', 'iso'] },
          },
          names: {
            default: 'stored',
            doc: 'PN whole (`Yamada^Tarou=山田^太郎`), or one component group of it.',
            example: 'names: alphabetic',
            type: { kind: 'enum', values: ['stored', 'alphabetic', 'ideographic', 'phonetic'] },
          },
          binary: {
            default: 'base64',
            doc: 'OB, OW, UN and other binary values as base64, or as their length in bytes.',
            example: 'binary: length',
            type: { kind: 'enum', values: ['base64', 'length'] },
          },
          charset: {
            doc: 'The character set of text that no Specific Character Set declares (a warning says so). Default ISO_IR 100.',
            example: "charset: 'ISO_IR 192'",
            type: string,
          },
          spreadsheet: {
            default: false,
            doc:
              'CSV safe to open in Excel or LibreOffice (see "CSV in a spreadsheet"): a UTF-8 byte order mark first, and ' +
              'cells (the header too) that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `@SUM(...)`, `-1+2`) ' +
              "or read as another number (`00123`, 20 digits) start with `'`, which keeps them text. Numbers as etl " +
              'writes them (`-288`) stay numbers.',
            example: 'spreadsheet: true',
            type: boolean,
          },
        },
      },
    },
    output: {
      doc: 'Where the rows go, and in what format.',
      type: {
        kind: 'mapping',
        fields: {
          path: {
            default: '-',
            doc: 'The output file, relative to the pipeline file; `-` is stdout.',
            example: 'path: out/dose.csv',
            type: string,
          },
          format: {
            doc:
              'The output format, by default the one the path ends with (`.csv`, `.jsonl`, `.parquet`), else CSV. ' +
              SINKS.map((s) => `\`${s.format}\`: ${s.doc}.`).join(' '),
            example: 'format: parquet',
            type: { kind: 'enum', values: OUTPUT_FORMATS },
          },
          errors: {
            doc: 'A CSV of the files ignored or failed, with the reason; none by default.',
            example: 'errors: out/dose-errors.csv',
            type: string,
          },
        },
      },
    },
  },
} as const satisfies MappingType

/**
 * The value a type checks to. `Hole` is what stands for a value that had a problem:
 * `undefined` while problems may exist, `never` once there were none.
 */
export type ValueOf<T extends FieldType, Hole = never> = T extends { kind: 'string' }
  ? string
  : T extends { kind: 'integer' }
    ? number
    : T extends { kind: 'boolean' }
      ? boolean
      : T extends { kind: 'enum'; values: readonly (infer V)[] }
        ? V
        : T extends { kind: 'list'; items: infer I extends FieldType }
          ? (ValueOf<I, Hole> | Hole)[]
          : T extends { kind: 'mapping'; fields: infer F extends Fields }
            ? MappingValue<F, Hole>
            : T extends { kind: 'either'; scalar: infer S extends FieldType; mapping: infer M extends FieldType }
              ? ValueOf<S, Hole> | ValueOf<M, Hole>
              : never

type MappingValue<F extends Fields, Hole> = {
  -readonly [K in keyof F as AlwaysSet<F[K]> extends true ? K : never]: ValueOf<F[K]['type'], Hole> | Hole
} & {
  -readonly [K in keyof F as AlwaysSet<F[K]> extends true ? never : K]?: ValueOf<F[K]['type'], Hole> | Hole
}

/** Whether a key has a value after checking even when absent (see `defaultOf`). */
type AlwaysSet<F extends Field> = F extends { required: true }
  ? true
  : F extends { default: unknown }
    ? true
    : F['type'] extends { kind: 'mapping'; fields: infer G extends Fields }
      ? { [K in keyof G]: G[K] extends { required: true } ? K : never }[keyof G] extends never
        ? true
        : false
      : false

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
        return ok ? scalar : this.wrong(node, offset, path, type)
      }
      case 'boolean':
        return typeof scalar === 'boolean' ? scalar : this.wrong(node, offset, path, type)
      case 'enum':
        return typeof scalar === 'string' && type.values.includes(scalar)
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
      const keys = type.exactlyOne.map((key) => `"${key}"`)
      if (given.length > 1) {
        this.problem(
          Math.max(...given.map((key) => seen.get(key) ?? offset)),
          `${name(path)} has both ${keys.join(' and ')}: keep one`,
        )
      } else if (given.length === 0 && !type.exactlyOne.some((key) => suggested.has(key))) {
        this.problem(offset, `missing required key ${keys.join(' or ')}${where}`)
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
      return `an integer from ${type.min} to ${type.max}`
    case 'boolean':
      return 'true or false'
    case 'enum':
      return type.values.map((v) => `"${v}"`).join(' or ')
    case 'mapping': {
      const required = Object.keys(type.fields).filter((key) => type.fields[key].required)
      if (required.length === 0) return 'a mapping'
      return `a mapping with ${required.length === 1 ? 'key' : 'keys'} ${required.join(' and ')}`
    }
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

/**
 * The README's table of pipeline keys, one row per key path (`source.paths`,
 * `extract[].as`), from `pipelineSchema`.
 */
export function schemaMarkdown(): string {
  const rows = ['| key | type | default | description |', '|---|---|---|---|']
  const walk = (fields: Fields, prefix: string) => {
    for (const [key, field] of Object.entries(fields)) {
      const path = prefix + key
      const example = field.example ? ` Example: \`${field.example}\`` : ''
      const cells = [`\`${path}\``, typeName(field.type), defaultText(field), field.doc + example]
      rows.push(`| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`)
      const inner = mappingOf(field.type)
      if (inner) walk(inner.fields, `${path}${field.type.kind === 'mapping' ? '' : '[]'}.`)
    }
  }
  walk(pipelineSchema.fields, '')
  return rows.join('\n') + '\n'
}

/** The mapping a type holds, directly or as list items, whose keys get rows of their own. */
function mappingOf(type: FieldType): MappingType | undefined {
  if (type.kind === 'mapping') return type
  if (type.kind === 'either') return type.mapping
  if (type.kind === 'list') return mappingOf(type.items)
  return undefined
}

function typeName(type: FieldType): string {
  switch (type.kind) {
    case 'string':
    case 'boolean':
    case 'mapping':
      return type.kind
    case 'integer':
      return `integer ${type.min}–${type.max}`
    case 'enum':
      return type.values.map((v) => `\`${v}\``).join(' or ')
    case 'either':
      return `${typeName(type.scalar)} or mapping`
    case 'list': {
      const items = typeName(type.items)
      const list = items.includes(' ') ? `list of (${items})` : `list of ${items}`
      return type.single ? `${items} or ${list}` : list
    }
  }
}

function defaultText(field: Field): string {
  if (field.required) return 'required'
  if (field.default !== undefined) return `\`${JSON.stringify(field.default)}\``
  return ''
}
