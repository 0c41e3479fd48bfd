/**
 * The keys of a pipeline YAML file, each declared once as data (type, default, doc, example,
 * in the vocabulary of `fields.ts`). Both the checking of a parsed document (`checkPipeline`,
 * check-pipeline.ts) and the README's key table (`schemaMarkdown`, schema-markdown.ts) are
 * derived from `pipelineSchema`, so they cannot disagree. The metrics' keys (`dose`) are declared
 * by their modules (`metrics/registry.ts`). Meaning that spans keys (DICOM keywords, column
 * names, paths) is checked by `load.ts`.
 */
import { NORMALISE_STEPS, PRIVACY_ACTIONS } from '../records.js'
import { UNIT_NAMES } from '../dicom/units.js'
import { AGGREGATE_DOCS, AGGREGATE_OPS, PERCENTILE_OP } from '../metrics/aggregate.js'
import { metricKeys } from '../metrics/registry.js'
import type { MappingType } from './fields.js'
import { DEFAULT_SHIFT_DAYS, DEFAULT_SORT_MEMORY_MB, PSEUDO_COLUMNS, ROWS_PER } from './spec.js'
import { OUTPUT_FORMATS, SINKS } from '../sinks/registry.js'
import { DEFAULT_PRECISION } from '../values.js'
import { SOURCES, SOURCE_TYPES } from '../sources/registry.js'
import { filesFields } from '../sources/files.js'
import { dicomwebFields } from '../sources/dicomweb.js'

const string = { kind: 'string' } as const
const boolean = { kind: 'boolean' } as const
/** Names of extracted columns (`group_by`, `distinct`): one, or a list. */
const columnNames = {
  kind: 'list',
  noun: 'a column name or a list of column names',
  single: true,
  nonEmpty: true,
  items: string,
} as const

/** Every key of a pipeline file. */
export const pipelineSchema = {
  kind: 'mapping',
  fields: {
    source: {
      required: true,
      doc: 'Where the DICOM headers come from.',
      type: {
        kind: 'mapping',
        fields: {
          type: {
            default: 'files',
            doc: `The kind of source: ${SOURCES.map((s) => `\`${s.type}\`: ${s.doc}.`).join(' ')}`,
            example: 'type: files',
            type: { kind: 'enum', values: SOURCE_TYPES },
          },
          ...filesFields,
          ...dicomwebFields,
        },
      },
    },
    extract: {
      required: true,
      doc:
        'The columns, in CSV order. Each is a DICOM keyword, a tag, or a pseudo-column ' +
        `(${PSEUDO_COLUMNS.join(', ')}), an SR content path (\`sr:113811/113813\`), or a mapping of ` +
        '`keyword`, `tag` or `sr`, and `as`.',
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
            exactlyOne: ['keyword', 'tag', 'sr'],
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
              sr: {
                doc:
                  'SR content by concept name codes, from the ContentSequence down, separated by `/`: the value of ' +
                  'the content item as its ValueType says (`[*]` after a code: every such item). The column is named ' +
                  '`sr:` and the path.',
                example: 'sr: 113811/113813',
                type: string,
              },
              unit: {
                doc: `With \`sr\`: the unit a NUM value is converted to (${UNIT_NAMES.join(', ')}); a value in another unit is left empty, with a warning.`,
                example: 'unit: mGy.cm',
                type: string,
              },
              as: {
                doc: 'The CSV header of the column, instead of the keyword (or of the tag, when it has none).',
                example: 'as: CTDIvol_mGy',
                type: string,
              },
              normalise: {
                doc:
                  'Steps that rewrite the text values, in order, before rows are sorted and grouped (`where` sees ' +
                  'the stored value): `lower`, `upper`, `trim` (ends, and runs of spaces made one), `no_digits`, ' +
                  '`no_punctuation`, so that names written differently group together.',
                example: 'normalise: [lower, no_digits, trim]',
                type: {
                  kind: 'list',
                  noun: 'a list of steps',
                  single: true,
                  items: { kind: 'enum', values: NORMALISE_STEPS },
                },
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
      type: {
        kind: 'either',
        noun: 'per_file, per_frame, or a mapping with per_item',
        scalar: { kind: 'enum', values: ROWS_PER },
        mapping: {
          kind: 'mapping',
          fields: {
            per_item: {
              required: true,
              doc:
                'One row per SR content item that this `sr:` path reaches (every item its last code matches), ' +
                'e.g. `sr:113819`, each CT Acquisition of a dose report; a file with none gives no row. A column ' +
                "whose `sr:` path starts with it is read from the row's item (`sr:113819/113829/113830`: that " +
                "acquisition's Mean CTDIvol); the other columns are the file's.",
              example: 'rows: {per_item: sr:113819}',
              type: string,
            },
          },
        },
      },
    },
    where: {
      doc:
        'Keep only the rows that pass this filter (see "Filters (where)"): `=`, `!=`, `<`, `<=`, `>`, `>=`, ' +
        '`in [a, b]`, `contains`, `~ /regex/i`, `is empty` on typed values, with `and`, `or`, `not`, `( )`. ' +
        'Columns by output name, or as `extract` takes them (read for the filter alone if not extracted). ' +
        'Tested where rows are made, before sorting. `--where` adds one.',
      example: 'where: Modality = CT and not ImageType contains LOCALIZER',
      type: string,
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
              'Column names as in the CSV header (after `as`), most significant first. Required unless ' +
              ['group_by', ...Object.keys(metricKeys())].map((key) => `\`${key}\``).join(' or ') +
              ' sorts the rows; with them, it orders the rows that tie on what they sort by.',
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
              'The memory the sorter holds rows in, in MiB, before it writes them to disk in sorted runs; with ' +
              'percentile or count_distinct aggregates, half of it holds the rows and half the values of a group, ' +
              "spilled the same way. The process's peak memory is about this plus Node's own (some 100 MB).",
            example: 'memory_mb: 256',
            type: { kind: 'integer', min: 1, max: 65536 },
          },
        },
      },
    },
    distinct: {
      doc:
        'Leave out repeated rows: rows equal on these columns (names as in the CSV header) count once, the first ' +
        'kept; with `group_by`, within each group. The rows are sorted by them (after the `group_by` columns). ' +
        "A dose report per series that repeats the exam's earlier events gives each event once with " +
        '`distinct: [IrradiationEventUID]`.',
      example: 'distinct: [IrradiationEventUID]',
      type: columnNames,
    },
    group_by: {
      doc:
        'One row per group of rows with equal cells in these columns (names as in the CSV header), which are its ' +
        'first columns. The rows are sorted by these columns first, so groups come out in that order, one after ' +
        'another, without being held. A single name is accepted too.',
      example: 'group_by: [PatientID, SeriesInstanceUID]',
      type: columnNames,
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
              doc:
                Object.entries(AGGREGATE_DOCS)
                  .map(([op, doc]) => `\`${op}\`: ${doc}`)
                  .join('; ') + '.',
              example: 'op: median',
              type: { kind: 'enum', values: AGGREGATE_OPS, pattern: { regex: PERCENTILE_OP, name: 'pNN' } },
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
    ...metricKeys(),
    privacy: {
      doc:
        'Pseudonymised output (see "Pseudonymised exports"): what each column becomes, with a key from ' +
        '`--key-file` or ETL_PSEUDONYM_KEY (never from this file). Every extracted column that DICOM PS3.15 ' +
        'Table E.1-1 names as identifying (and `path`, `mtime`, private tags) needs an action here, `keep` included.',
      example: 'privacy: {columns: {PatientID: pseudonym, StudyInstanceUID: uid, StudyDate: shift_date}}',
      type: {
        kind: 'mapping',
        fields: {
          columns: {
            default: {},
            doc:
              'Column name -> action: `pseudonym` (a keyed token, `PID-...`), `uid` (a keyed `2.25.` UID), ' +
              "`shift_date` (dates moved by the patient's own number of days), `year_only`, `age_band` " +
              '(5-year bands, 89+), `remove` (empty), `keep`.',
            example: 'columns: {PatientID: pseudonym, PatientAge: age_band, path: pseudonym}',
            type: { kind: 'map', keyNoun: 'column', values: { kind: 'enum', values: PRIVACY_ACTIONS } },
          },
          shift_days: {
            default: DEFAULT_SHIFT_DAYS,
            doc: "`shift_date` moves each patient's dates by 1 to this many days, earlier or later (never 0).",
            example: 'shift_days: 365',
            type: { kind: 'integer', min: 1, max: 3650 },
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
      doc: 'How cells are written. Every default keeps stored values as DICOM stores them; computed numbers have 4 significant digits.',
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
          precision: {
            default: DEFAULT_PRECISION,
            doc:
              "Significant digits of computed numbers: aggregates (sum, mean, median, pNN, stddev) and the metrics' " +
              'columns (the DLP, mean CTDIvol, effective dose...), in every output format. Stored values (extracted ' +
              'columns, and min, max, first, last, which pick a cell) are written as stored, and counts exactly. ' +
              '`full`: every digit of the double as computed (it reads back as the same number).',
            example: 'precision: full',
            type: { kind: 'integer', min: 1, max: 17, words: ['full'] },
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
