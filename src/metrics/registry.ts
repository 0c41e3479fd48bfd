/**
 * The metrics: the only place that lists them. Each is a key of a pipeline file (`dose:`) whose
 * module declares what it reads, the order it needs and the columns it adds (`metric.ts`).
 * Adding a metric: its module, a line here, its test and its README row.
 */
import { dose } from './dose.js'
import type { AnyMetric, ConfigOf } from './metric.js'
import { doseAudit } from './audit.js'
import { examDose } from './exam.js'
import { rdsrCt, rdsrXray } from './rdsr.js'

export const METRICS = [dose, examDose, doseAudit, rdsrCt, rdsrXray] as const satisfies readonly AnyMetric[]

/** One of the metrics. */
export type Metric = (typeof METRICS)[number]

/** Each metric's block as a key of the pipeline schema: its doc, example and fields. */
export type MetricKeys = {
  readonly [M in Metric as M['key']]: {
    readonly doc: string
    readonly example: string
    readonly type: { readonly kind: 'mapping'; readonly fields: M['fields'] }
  }
}

/** The value of each metric's block in a resolved pipeline, present when the file has it. */
export type MetricSpecs = { [M in Metric as M['key']]?: ConfigOf<M['fields']> }

/** The schema keys of the metrics (see {@link MetricKeys}), in registry order. */
export function metricKeys(metrics: readonly AnyMetric[] = METRICS): MetricKeys {
  return Object.fromEntries(
    metrics.map((m) => [m.key, { doc: m.doc, example: m.example, type: { kind: 'mapping', fields: m.fields } }]),
  ) as MetricKeys
}

/**
 * The metrics a resolved pipeline asks for (their key is in it), each with its block's value.
 * `spec` is a `PipelineSpec` (typed loosely: the spec's type is made from this registry).
 */
export function metricsOf(
  spec: object,
  metrics: readonly AnyMetric[] = METRICS,
): { metric: AnyMetric; config: unknown }[] {
  const blocks = spec as Readonly<Record<string, unknown>>
  return metrics.flatMap((metric) => (blocks[metric.key] === undefined ? [] : [{ metric, config: blocks[metric.key] }]))
}
