/**
 * The README's table of pipeline keys, generated from the declared keys (`pipelineSchema`): a
 * test keeps the README's copy equal to it.
 */
import type { Field, FieldType, Fields, MappingType } from './fields.js'
import { pipelineSchema } from './schema.js'

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
      if (inner) walk(inner.fields, `${path}${field.type.kind === 'list' ? '[]' : ''}.`)
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
      return [`integer ${type.min}–${type.max}`, ...(type.words ?? []).map((w) => `\`${w}\``)].join(' or ')
    case 'number':
      return `number ${type.min}–${type.max}`
    case 'enum':
      return [...type.values, ...(type.pattern ? [type.pattern.name] : [])].map((v) => `\`${v}\``).join(' or ')
    case 'either':
      return `${typeName(type.scalar)} or mapping`
    case 'map':
      return `mapping of ${type.keyNoun} to ${typeName(type.values)}`
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
