/**
 * The vocabulary keys are declared in: a key's type (string, integer range, boolean, enum, list,
 * mapping, or a short form beside a mapping), its default, doc and example, as benthos's field
 * specs and vector's configurables are; and `ValueOf`, the type a declared type checks to.
 */
/** The type of a key's value. */
export type FieldType =
  | { readonly kind: 'string' }
  | IntegerType
  | NumberType
  | { readonly kind: 'boolean' }
  | EnumType
  | ListType
  | MappingType
  | MapType
  | EitherType

/** An integer in a range, or one of a few words besides (`precision: full`). */
export interface IntegerType {
  readonly kind: 'integer'
  readonly min: number
  readonly max: number
  readonly words?: readonly string[]
}

/** A number (decimals allowed) in a range: a dose level in mGy. */
export interface NumberType {
  readonly kind: 'number'
  readonly min: number
  readonly max: number
}

/** One of some words, or a word of a pattern besides (`op: p95`). */
export interface EnumType {
  readonly kind: 'enum'
  readonly values: readonly string[]
  /** Words of this form are accepted too; `name` shows the form (`pNN`), `doc` says it. */
  readonly pattern?: { readonly regex: RegExp; readonly name: string }
}

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

/** A YAML mapping whose keys are names the file chooses (column names), each value of one type. */
export interface MapType {
  readonly kind: 'map'
  /** What the keys are, for messages and the README ("column"). */
  readonly keyNoun: string
  readonly values: FieldType
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

/**
 * The value a type checks to. `Hole` is what stands for a value that had a problem:
 * `undefined` while problems may exist, `never` once there were none.
 */
export type ValueOf<T extends FieldType, Hole = never> = T extends { kind: 'string' }
  ? string
  : T extends { kind: 'integer'; words: readonly (infer W)[] }
    ? number | W
    : T extends { kind: 'integer' | 'number' }
      ? number
      : T extends { kind: 'boolean' }
        ? boolean
        : T extends { kind: 'enum'; values: readonly (infer V)[]; pattern: object }
          ? V | string
          : T extends { kind: 'enum'; values: readonly (infer V)[] }
            ? V
            : T extends { kind: 'list'; items: infer I extends FieldType }
              ? (ValueOf<I, Hole> | Hole)[]
              : T extends { kind: 'map'; values: infer V extends FieldType }
                ? Record<string, ValueOf<V, Hole> | Hole>
                : T extends { kind: 'mapping'; fields: infer F extends Fields }
                  ? MappingValue<F, Hole>
                  : T extends { kind: 'either'; scalar: infer S extends FieldType; mapping: infer M extends FieldType }
                    ? ValueOf<S, Hole> | ValueOf<M, Hole>
                    : never

/** The value of a mapping: keys that always have one are required properties, others optional. */
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
