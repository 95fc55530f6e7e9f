import type { ScenarioLabel, ValidationCode } from '../../domain/event.ts'
import type { RuleSet, RuleType } from '../../domain/rules/types.ts'
import { parseJsonWithin } from '../../domain/limits.ts'
import { DaroogheError } from '../../errors.ts'
import type { Outcome } from './records.ts'

/** Fraud labels of the generator and the rule types that are meant to catch each. */
export const FRAUD_LABELS: Readonly<Partial<Record<ScenarioLabel, readonly RuleType[]>>> = {
  velocity: ['velocity'],
  impossible_travel: ['impossible_travel', 'location_change'],
  amount_anomaly: ['amount_anomaly', 'amount_threshold'],
  new_location_large_amount: ['new_location_amount']
}

/** Invalid-event labels and the error code each must land in error_logs with. */
export const ERROR_LABELS: Readonly<Partial<Record<ScenarioLabel, ValidationCode>>> = {
  invalid_amount: 'ERR_AMOUNT',
  invalid_time_future: 'ERR_TIME',
  invalid_time_old: 'ERR_TIME',
  invalid_device: 'ERR_DEVICE',
  invalid_schema: 'ERR_SCHEMA',
  malformed_json: 'ERR_SCHEMA'
}

interface Label {
  readonly label: string
  readonly scenario: string | null
}

interface LabelRow {
  label: string
  events: number
  /** Fraud labels: decided fraud by any rule / by a rule of the matching type. Error labels: in error_logs with the code. */
  caught: number
  caughtByRule: number
  scenarios: Set<string>
  scenariosCaught: Set<string>
}

/**
 * Precision / recall of a file-mode run against the generator's labels file
 * (`{"transaction_id", "label", "scenario_id"}` per line). Event-level and scenario-level: a
 * velocity burst is one scenario whose first events are legitimately below the threshold, so
 * a scenario counts as caught when at least one of its events is flagged by a matching rule.
 */
export class Backtest {
  readonly #labels = new Map<string, Label>()
  readonly #seen = new Set<string>()
  readonly #typeOf: Map<string, RuleType>
  readonly #rows = new Map<string, LabelRow>()
  readonly #rules = new Map<string, { fired: number; tp: number; legit: number }>()
  #tp = 0
  #fp = 0
  #fn = 0

  constructor(ruleSet: RuleSet) {
    this.#typeOf = new Map(ruleSet.rules.map(r => [r.id, r.type]))
    for (const r of ruleSet.rules) this.#rules.set(r.id, { fired: 0, tp: 0, legit: 0 })
  }

  addLabel(line: string, where: string): void {
    if (line.trim().length === 0) return
    // A line is a record this project did not write: parsed behind the record limits.
    const parsed = parseJsonWithin(line)
    if (!parsed.ok) {
      const why = parsed.limit === null ? 'not valid JSON' : parsed.error
      throw new DaroogheError('USAGE', `${where}: ${why}; expected {"transaction_id","label","scenario_id"}`)
    }
    const v = parsed.value
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new DaroogheError(
        'USAGE',
        `${where}: expected an object {"transaction_id","label","scenario_id"}`
      )
    }
    const o = v as { transaction_id?: unknown; label?: unknown; scenario_id?: unknown }
    if (typeof o.transaction_id !== 'string' || typeof o.label !== 'string') {
      throw new DaroogheError('USAGE', `${where}: transaction_id and label must be strings`)
    }
    const scenario = o.scenario_id == null ? null : String(o.scenario_id)
    this.#labels.set(o.transaction_id, { label: o.label, scenario })
  }

  observe(outcomes: readonly Outcome[]): void {
    for (const o of outcomes) {
      if (o.transactionId === null || o.outcome === 'duplicate') continue
      const l = this.#labels.get(o.transactionId)
      if (l === undefined || this.#seen.has(o.transactionId)) continue
      this.#seen.add(o.transactionId)
      this.#score(l, o)
    }
  }

  #row(label: string): LabelRow {
    let row = this.#rows.get(label)
    if (!row)
      this.#rows.set(
        label,
        (row = {
          label,
          events: 0,
          caught: 0,
          caughtByRule: 0,
          scenarios: new Set(),
          scenariosCaught: new Set()
        })
      )
    return row
  }

  #score(l: Label, o: Outcome): void {
    const row = this.#row(l.label)
    row.events++
    if (l.scenario !== null) row.scenarios.add(l.scenario)
    // Labels come from a file: own entries only ('constructor' is no label of ours).
    const types = Object.hasOwn(FRAUD_LABELS, l.label) ? FRAUD_LABELS[l.label as ScenarioLabel] : undefined
    const code = Object.hasOwn(ERROR_LABELS, l.label) ? ERROR_LABELS[l.label as ScenarioLabel] : undefined
    const fraud = o.outcome === 'fraud'
    for (const id of o.rulesFired) {
      const r = this.#rules.get(id)
      if (!r) continue
      r.fired++
      if (types?.includes(this.#typeOf.get(id)!)) r.tp++
      else if (l.label === 'legit') r.legit++
    }
    if (types) {
      const byRule = o.rulesFired.some(id => types.includes(this.#typeOf.get(id)!))
      if (fraud) row.caught++
      if (byRule) {
        row.caughtByRule++
        if (l.scenario !== null) row.scenariosCaught.add(l.scenario)
      }
      if (fraud) this.#tp++
      else this.#fn++
    } else if (code) {
      if (o.outcome === 'error' && o.errorCodes.includes(code)) {
        row.caught++
        row.caughtByRule++
        if (l.scenario !== null) row.scenariosCaught.add(l.scenario)
      }
    } else if (fraud) {
      row.caught++
      this.#fp++
    }
  }

  /** The numbers of the backtest so far. */
  report(): BacktestReport {
    // Labels with no outcome at all (e.g. malformed lines without a readable id).
    const missing = new Map<string, number>()
    for (const [id, l] of this.#labels) {
      if (!this.#seen.has(id)) missing.set(this.#row(l.label).label, (missing.get(l.label) ?? 0) + 1)
    }
    const labels = [...this.#rows.values()]
      .sort((a, b) => a.label.localeCompare(b.label))
      .map(r => ({
        label: r.label,
        kind: Object.hasOwn(FRAUD_LABELS, r.label)
          ? ('fraud' as const)
          : Object.hasOwn(ERROR_LABELS, r.label)
            ? ('error' as const)
            : ('other' as const),
        events: r.events,
        flaggedFraud: Object.hasOwn(ERROR_LABELS, r.label) ? 0 : r.caught,
        caught: r.caughtByRule,
        scenarios: r.scenarios.size,
        scenariosCaught: r.scenariosCaught.size,
        missing: missing.get(r.label) ?? 0
      }))
    const rules = [...this.#rules].map(([id, r]) => ({
      id,
      fired: r.fired,
      truePositives: r.tp,
      onLegit: r.legit
    }))
    const precision = this.#tp + this.#fp === 0 ? 0 : this.#tp / (this.#tp + this.#fp)
    const recall = this.#tp + this.#fn === 0 ? 0 : this.#tp / (this.#tp + this.#fn)
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
    return { labels, rules, precision, recall, f1 }
  }

  /** A table for a person, one label or rule per line. */
  format(report: BacktestReport = this.report()): string {
    const pct = (a: number, b: number): string =>
      b === 0 ? '    -  ' : `${((100 * a) / b).toFixed(1).padStart(6)}%`
    const lines: string[] = [
      'backtest against labels',
      'label                        events  caught (matching rule or code)  scenarios caught     missing'
    ]
    for (const l of report.labels) {
      const what =
        l.kind === 'other'
          ? `${l.flaggedFraud} flagged fraud ${pct(l.flaggedFraud, l.events)}`
          : `${l.caught}/${l.events} ${pct(l.caught, l.events)}`
      const sc =
        l.scenarios > 0 && l.kind === 'fraud'
          ? `${l.scenariosCaught}/${l.scenarios} ${pct(l.scenariosCaught, l.scenarios)}`
          : '-'
      lines.push(
        `${l.label.padEnd(28)} ${String(l.events).padStart(7)}  ${what.padEnd(31)} ${sc.padEnd(20)} ${l.missing}`
      )
    }
    lines.push('rule                         fired   true pos  on legit  precision')
    for (const r of report.rules) {
      lines.push(
        `${r.id.padEnd(28)} ${String(r.fired).padStart(6)} ${String(r.truePositives).padStart(10)} ${String(r.onLegit).padStart(9)}  ${pct(r.truePositives, r.fired)}`
      )
    }
    lines.push(
      `overall (fraud decision vs fraud labels, events): precision ${report.precision.toFixed(3)} recall ${report.recall.toFixed(3)} F1 ${report.f1.toFixed(3)}`
    )
    return lines.join('\n') + '\n'
  }
}

export interface BacktestReport {
  /** Per label: for fraud labels `caught` = flagged by a rule of the matching type; for error labels = in error_logs with the code. */
  labels: {
    label: string
    kind: 'fraud' | 'error' | 'other'
    events: number
    flaggedFraud: number
    caught: number
    scenarios: number
    scenariosCaught: number
    missing: number
  }[]
  rules: { id: string; fired: number; truePositives: number; onLegit: number }[]
  /** Event level: fraud decisions against fraud labels. */
  precision: number
  recall: number
  f1: number
}
