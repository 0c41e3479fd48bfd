/**
 * `etl inspect FILE`: every header element of one file, like dcmdump, but each with the path
 * that a pipeline accepts (`ExposureDoseSequence[1].CTDIvol`, `0019,xx23@GEMS_ACQU_01`), so a
 * user can copy it into `-k` or a YAML file. Items are indented under their sequence.
 *
 * An SR document's content tree (its ContentSequence) is shown as `sr:` paths of concept name
 * codes instead of elements (`--elements` shows the elements too): each content item with its
 * meanings, value and unit, e.g.
 * `sr:113811/113813  NUM  CT Accumulated Dose Data > CT Dose Length Product Total = 586.34 mGy.cm`.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs'
import { formatValue } from '../dicom/format-value.js'
import { formatTag, lookupTag, Tags } from '../dicom/keywords.js'
import { parseCharsets } from '../dicom/charset.js'
import { latin1, type DataElement } from '../dicom/data-element.js'
import { readItems } from '../dicom/items.js'
import { parseCode } from '../dicom/paths.js'
import { codeOf, contentValue, hasConceptName, measuredValue, SrTags, valueType } from '../dicom/sr-content.js'
import { SR_PREFIX } from '../dicom/sr-paths.js'
import { valueText } from '../values.js'
import { readHeaderSync } from '../dicom/read-header.js'
import { planRead } from '../dicom/read-plan.js'
import { EtlError, ExitCode } from '../errors.js'
import { displayPath, escapeControls } from '../io/fs-path.js'
import { writeLines } from '../io/stdout.js'
import { fail } from './fail.js'

interface InspectArgs {
  file: string
  width: number
  elements: boolean
}

const BINARY = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'])

/**
 * Items nested deeper than this are not shown: a file of sequences nested 10,000 deep would
 * print its paths, each longer than the last, for gigabytes. The header reader stops at the
 * same depth for sequences of undefined length.
 */
export const MAX_INSPECT_DEPTH = 64

/**
 * The lines `etl inspect` prints for a file. Throws EtlError for files it cannot read. An SR
 * document's ContentSequence is shown as `sr:` paths; with `showElements`, as elements too.
 */
export function inspectLines(file: string, width = 80, showElements = false): string[] {
  const header = readHeaderSync(file, planRead([], { all: true }))
  const lines: string[] = []
  // An SR document: its root content item (a ValueType) and its content tree.
  const sr = header.elements.has(SrTags.ContentSequence) && header.elements.has(SrTags.ValueType)
  const syntax = header.transferSyntaxUID ?? '(none: raw data set)'
  const encoding = `${header.explicitVR ? 'explicit' : 'implicit'} VR ${header.littleEndian ? 'little' : 'big'} endian`
  lines.push(`# ${displayPath(file)}: transfer syntax ${syntax}, ${encoding}; header ${header.bytesRead} bytes read`)
  const walk = (elements: ReadonlyMap<number, DataElement>, prefix: string, depth: number, charsets: string[]) => {
    const own = elements.get(Tags.SpecificCharacterSet)
    const here = own ? parseCharsets(latin1(own.value)) : charsets
    const indent = '  '.repeat(depth)
    for (const element of elements.values()) {
      const path = prefix + stepText(element.tag, elements)
      const tag = formatTag(element.tag)
      if (element.vr === 'SQ') {
        if (depth === 0 && element.tag === SrTags.ContentSequence && sr && !showElements) {
          lines.push(`${indent}${tag} SQ  ${(path + '  ').padEnd(44 - indent.length)}SR content: sr: paths below`)
          continue
        }
        let items: Map<number, DataElement>[]
        try {
          items = readItems(element, element.tag >>> 16 === 0x0002 ? true : header.littleEndian)
        } catch (err) {
          lines.push(`${indent}${tag} SQ  ${path}  (unreadable items: ${(err as Error).message})`)
          continue
        }
        const count = `${items.length} item${items.length === 1 ? '' : 's'}`
        lines.push(`${indent}${tag} SQ  ${(path + '  ').padEnd(44 - indent.length)}${count}`)
        // The depth is bounded, and so is this recursion.
        if (items.length > 0 && depth + 1 >= MAX_INSPECT_DEPTH) {
          lines.push(`${indent}  (sequence nested deeper than ${MAX_INSPECT_DEPTH}: not shown)`)
          continue
        }
        items.forEach((item, i) => walk(item, `${path}[${i}].`, depth + 1, here))
        continue
      }
      const littleEndian = element.tag >>> 16 === 0x0002 ? true : header.littleEndian
      const binary = BINARY.has(element.vr) && !(element.vr === 'UN' && lookupTag(element.tag))
      const value = binary ? `(${element.value.length} bytes)` : formatValue(element, { littleEndian, charsets: here })
      lines.push(`${indent}${tag} ${element.vr}  ${(path + '  ').padEnd(44 - indent.length)}${shorten(value, width)}`)
    }
  }
  walk(header.elements, '', 0, [])
  const own = header.elements.get(Tags.SpecificCharacterSet)
  if (sr) {
    lines.push(
      ...contentLines(header.elements, header.littleEndian, own ? parseCharsets(latin1(own.value)) : [], width),
    )
  }
  const damage = header.damage
  if (damage) lines.push(`# unreadable from ${formatTag(damage.tag)} at byte ${damage.at}: ${damage.reason}`)
  return lines
}

/**
 * An SR content tree as `sr:` paths, one line per content item: the path, the ValueType, the
 * concept names from the top down and the value (a NUM's with its unit, a CODE's meaning with
 * its code). A code that is not the first of its siblings with that code gets its `[n]`; an
 * item without a concept name (or one no path can spell) is `*[n]`, by position.
 */
function contentLines(
  top: ReadonlyMap<number, DataElement>,
  littleEndian: boolean,
  charsets: string[],
  width: number,
): string[] {
  const rows: [string, string, string][] = []
  const context = { littleEndian, charsets }
  const walk = (level: ReadonlyMap<number, DataElement>, path: string, names: string[], depth: number) => {
    const sequence = level.get(SrTags.ContentSequence)
    if (!sequence) return
    let items: Map<number, DataElement>[]
    try {
      items = readItems(sequence, littleEndian)
    } catch (err) {
      rows.push([path || SR_PREFIX, '', `(unreadable content items: ${(err as Error).message})`])
      return
    }
    if (items.length > 0 && depth >= MAX_INSPECT_DEPTH) {
      rows.push([path || SR_PREFIX, '', `(content nested deeper than ${MAX_INSPECT_DEPTH}: not shown)`])
      return
    }
    items.forEach((item, i) => {
      const name = codeOf(item, SrTags.ConceptNameCodeSequence, context)
      const written =
        name && (name.scheme === 'DCM' || name.scheme === '' ? name.value : `${name.scheme}:${name.value}`)
      const code = written ? parseCode(written) : undefined
      let step = `*[${i}]`
      if (code && code.value === name?.value) {
        const same = items.filter((other) => hasConceptName(other, code, littleEndian))
        step = same.length > 1 ? `${written}[${same.indexOf(item)}]` : (written as string)
      }
      const here = path ? `${path}/${step}` : `${SR_PREFIX}${step}`
      const chain = [...names, name?.meaning || (name ? name.value : '(no concept name)')]
      rows.push([here, valueType(item), chain.join(' > ') + itemValue(item, context)])
      walk(item, here, chain, depth + 1)
    })
  }
  walk(top, '', [], 0)
  const name = codeOf(top, SrTags.ConceptNameCodeSequence, context)
  const title = name ? `"${name.meaning}" (${name.scheme}:${name.value})` : 'of this document'
  const pad = Math.min(40, Math.max(0, ...rows.map(([path]) => path.length)))
  return [
    `# SR content ${escapeControls(title)}: each sr: path is a column for -k or extract:`,
    ...rows.map(([path, type, text]) => `${path.padEnd(pad)}  ${type.padEnd(9)}  ${shorten(text, width * 2)}`),
  ]
}

/** A content item's value as shown after its names: ` = 586.34 mGy.cm`, ` = Spiral Acquisition (SRT:P5-08001)`. */
function itemValue(
  item: ReadonlyMap<number, DataElement>,
  context: { littleEndian: boolean; charsets: string[] },
): string {
  const type = valueType(item)
  if (type === 'CONTAINER') return ''
  if (type === 'NUM') {
    const { stored, unit } = measuredValue(item, context)
    return stored === '' ? ' (no value)' : ` = ${stored}${unit ? ` ${unit}` : ''}`
  }
  if (type === 'CODE') {
    const code = codeOf(item, SrTags.ConceptCodeSequence, context)
    return code ? ` = ${code.meaning} (${code.scheme}:${code.value})` : ' (no value)'
  }
  const value = valueText(contentValue(item, { part: 'value' }, context, ''))
  return value === '' ? '' : ` = ${value}`
}

/** How a path names this element: its keyword, its creator block for private ones, or its tag. */
function stepText(tag: number, elements: ReadonlyMap<number, DataElement>): string {
  const group = Math.floor(tag / 0x10000)
  const element = tag & 0xffff
  if (group % 2 === 1 && element >= 0x1000) {
    const creator = elements.get(group * 0x10000 + (element >> 8))
    if (creator) {
      const name = latin1(creator.value)
        .replace(/[\0 ]+$/, '')
        .trim()
      const hex = formatTag(tag)
      if (name) return `${hex.slice(1, 5)},xx${hex.slice(8, 10)}@${escapeControls(name)}`
    }
  }
  return lookupTag(tag)?.keyword ?? formatTag(tag).slice(1, -1)
}

/**
 * A value as shown: on one line (line breaks as a space), its other control characters written
 * out as `\x1b` (a value comes from whoever wrote the file: an escape sequence in it must not
 * drive the terminal), cut at `width` characters.
 */
function shorten(text: string, width: number): string {
  const oneLine = escapeControls(text.replace(/[\r\n]+/g, ' '))
  return oneLine.length > width ? `${oneLine.slice(0, width - 1)}…` : oneLine
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <file>',
  describe: 'Print every header element of a file with the path a pipeline uses for it',
  builder: (y: Argv) =>
    y
      .strict()
      .positional('file', { type: 'string', demandOption: true, describe: 'A DICOM file' })
      .option('width', { type: 'number', default: 80, describe: 'Longest value shown (characters)' })
      .option('elements', {
        type: 'boolean',
        default: false,
        describe: "An SR document's content as elements too, not only as sr: paths",
      })
      .example('$0 inspect IM0001.dcm', 'all elements, nested items indented')
      .example('$0 inspect IM0001.dcm | grep -i ctdi', 'find the path of an attribute')
      .example(
        '$0 inspect RDSR.dcm | grep -i "length product"',
        'find the sr: path of SR content',
      ) as unknown as Argv<InspectArgs>,
  handler: async (argv: ArgumentsCamelCase<InspectArgs>) => {
    let lines: string[]
    try {
      lines = inspectLines(argv.file, argv.width, argv.elements)
    } catch (err) {
      if (err instanceof EtlError && err.code === 'E_READ' && /no such file/.test(err.message)) {
        return fail(new EtlError('E_NO_INPUT', `${argv.file}: ${err.message}`, ExitCode.NO_INPUT))
      }
      if (err instanceof EtlError)
        return fail(new EtlError(err.code, `${argv.file}: ${err.message}`, ExitCode.DATA_ERR))
      return fail(err)
    }
    try {
      await writeLines(lines)
    } catch (err) {
      fail(err)
    }
  },
}
