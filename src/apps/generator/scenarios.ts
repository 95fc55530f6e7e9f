import type { PaymentEvent, ScenarioLabel } from '../../domain/event.ts'
import type { Random } from '../../domain/random.ts'
import { WINDOW_MS } from './customer-state.ts'
import type { CustomerState } from './customer-state.ts'
import { formatEventLine } from './events.ts'
import type { EventDraft, EventFactory, GeneratedRecord } from './events.ts'
import { FAR_CITIES, jitter } from './places.ts'
import type { Customer } from './population.ts'

/**
 * Injected fraud scenarios and invalid events. Which events carry which label (the
 * detector's recall is measured on the labelled ones; see README.md):
 *
 * - `velocity`: a customer quiet for 125 s makes k = 6–9 payments 4–12 s apart (all within
 *   100 s). Payments 1–5 are `legit` (no rule can fire yet); payments 6…k, which are the
 *   6th or later within 2 minutes, are `velocity`.
 * - `impossible_travel`: a quiet customer pays near home (`legit`), then 45–240 s later in a
 *   far city (Mashhad, Tabriz, Dubai, Istanbul, …, ≥ 100 km away): that second event is
 *   `impossible_travel`.
 * - `amount_anomaly`: a customer with ≥ 3 earlier valid events pays 12–25× the larger of
 *   their mean amount so far and their habit: that event is `amount_anomaly`.
 * - `new_location_large_amount`: a customer with nothing in the last 6 minutes pays 2–4×
 *   their habit in a far city they have never been seen in: that event is
 *   `new_location_large_amount` (it trips "large amount from a new location" rule sets,
 *   not the default rules, which it is kept clear of).
 * All events of a scenario, setup events included, carry its scenario id `sc_<n>`.
 * After a scenario the customer is held back (125 s after a burst, 6 min after a far
 * place) so their next ordinary payment cannot trip a rule because of it.
 */

export const FRAUD_KINDS = [
  'velocity',
  'impossible_travel',
  'amount_anomaly',
  'new_location_large_amount'
] as const
export type FraudKind = (typeof FRAUD_KINDS)[number]

export const INVALID_KINDS = [
  'invalid_amount',
  'invalid_time_future',
  'invalid_time_old',
  'invalid_device',
  'invalid_schema',
  'malformed_json'
] as const
export type InvalidKind = (typeof INVALID_KINDS)[number]

/** Mean labelled events and mean total events per started scenario (kinds equally likely). */
export const LABELLED_PER_SCENARIO = (2.5 + 1 + 1 + 1) / 4
export const EVENTS_PER_SCENARIO = (7.5 + 2 + 1 + 1) / 4

/** After a payment far away, the customer stays away from ordinary traffic this long (> 5 min). */
export const TRAVEL_QUIET_MS = 360_000
const MINUTE = 60_000
const HOUR = 60 * MINUTE

export interface ScenarioContext {
  readonly factory: EventFactory
  readonly state: CustomerState
  readonly random: Random
  /** A customer for which `accept` holds at time `t`, or undefined if none is found quickly. */
  findCustomer(t: number, accept: (c: number) => boolean): Customer | undefined
  /** A customer free for an ordinary payment at `t`. */
  ordinaryCustomer(t: number): Customer
  /** Builds, records and returns a valid event. */
  emit(draft: EventDraft, at: number, label: ScenarioLabel, scenarioId: string | undefined): GeneratedRecord
  /** Runs `job` when the stream reaches event time `at`. */
  schedule(at: number, job: (at: number) => GeneratedRecord): void
  nextScenarioId(): string
}

/** Starts a scenario of `kind` at `t` and returns its first event, or undefined if no customer fits. */
export function startScenario(kind: FraudKind, t: number, ctx: ScenarioContext): GeneratedRecord | undefined {
  switch (kind) {
    case 'velocity':
      return velocity(t, ctx)
    case 'impossible_travel':
      return impossibleTravel(t, ctx)
    case 'amount_anomaly':
      return amountAnomaly(t, ctx)
    case 'new_location_large_amount':
      return newLocation(t, ctx)
  }
}

function velocity(t: number, ctx: ScenarioContext): GeneratedRecord | undefined {
  const { state, factory, random } = ctx
  const customer = ctx.findCustomer(t, c => state.quiet(c, t, WINDOW_MS))
  if (customer === undefined) return undefined
  const id = ctx.nextScenarioId()
  const k = random.int(6, 9)
  const card = factory.card(customer)
  const burst = (): EventDraft => ({
    ...factory.draft(customer),
    card,
    method: 'online',
    merchant: random.pick(factory.population.merchants),
    approved: true
  })
  let at = t
  for (let i = 2; i <= k; i++) {
    at = Math.floor(at + random.uniform(4_000, 12_000))
    const label: ScenarioLabel = i > 5 ? 'velocity' : 'legit'
    ctx.schedule(at, when => ctx.emit(burst(), when, label, id))
  }
  state.block(customer.index, at + WINDOW_MS)
  return ctx.emit(burst(), t, 'legit', id)
}

function farCity(customer: Customer, ctx: ScenarioContext, unseenOnly: boolean): number {
  const seen = ctx.state.citiesSeen[customer.index] as number
  const fresh: number[] = []
  for (let i = 0; i < FAR_CITIES.length; i++) if ((seen & (1 << i)) === 0) fresh.push(i)
  if (fresh.length > 0) return ctx.random.pick(fresh)
  return unseenOnly ? -1 : ctx.random.int(0, FAR_CITIES.length - 1)
}

function visit(customer: Customer, city: number, ctx: ScenarioContext): EventDraft['location'] {
  const state = ctx.state
  state.citiesSeen[customer.index] = (state.citiesSeen[customer.index] as number) | (1 << city)
  return jitter(FAR_CITIES[city] as (typeof FAR_CITIES)[number], 5, ctx.random)
}

function impossibleTravel(t: number, ctx: ScenarioContext): GeneratedRecord | undefined {
  const { state, factory, random } = ctx
  const customer = ctx.findCustomer(t, c => state.quiet(c, t, WINDOW_MS))
  if (customer === undefined) return undefined
  const id = ctx.nextScenarioId()
  const at = Math.floor(t + random.uniform(45_000, 240_000))
  const city = farCity(customer, ctx, false)
  const location = visit(customer, city, ctx)
  ctx.schedule(at, when =>
    ctx.emit(
      {
        ...factory.draft(customer),
        location,
        merchant: random.pick(factory.population.merchants),
        approved: true
      },
      when,
      'impossible_travel',
      id
    )
  )
  state.block(customer.index, at + TRAVEL_QUIET_MS)
  return ctx.emit({ ...factory.draft(customer), approved: true }, t, 'legit', id)
}

function amountAnomaly(t: number, ctx: ScenarioContext): GeneratedRecord | undefined {
  const { state, factory, random } = ctx
  const seasoned = state.seasoned
  if (seasoned.length === 0) return undefined
  let customer: Customer | undefined
  for (let i = 0; i < 32 && customer === undefined; i++) {
    const c = random.pick(seasoned)
    if (state.available(c, t)) customer = factory.population.customers[c]
  }
  if (customer === undefined) return undefined
  const base = Math.max(state.meanAmount(customer.index), customer.habit)
  const amount = Math.ceil(base * random.uniform(12, 25))
  return ctx.emit(
    { ...factory.draft(customer), amount, approved: true },
    t,
    'amount_anomaly',
    ctx.nextScenarioId()
  )
}

function newLocation(t: number, ctx: ScenarioContext): GeneratedRecord | undefined {
  const { state, factory } = ctx
  const customer = ctx.findCustomer(
    t,
    c => state.quiet(c, t, TRAVEL_QUIET_MS) && (state.citiesSeen[c] as number) !== 2 ** FAR_CITIES.length - 1
  )
  if (customer === undefined) return undefined
  const city = farCity(customer, ctx, true)
  const location = visit(customer, city, ctx)
  state.block(customer.index, t + TRAVEL_QUIET_MS)
  const amount = factory.amount(customer, 2, 4)
  const draft = { ...factory.draft(customer), amount, location, approved: true }
  return ctx.emit(draft, t, 'new_location_large_amount', ctx.nextScenarioId())
}

const BAD_OSES = ['Symbian', 'Windows Phone', 'BlackBerry OS', 'KaiOS']
const SCHEMA_DEFECTS = [
  'missing',
  'amount_string',
  'location_string',
  'unknown_method',
  'risk_string'
] as const
const REQUIRED_FIELDS = [
  'customer_id',
  'merchant_id',
  'amount',
  'timestamp',
  'location',
  'status',
  'total_amount'
]

/**
 * An invalid event of `kind` at `t`. Its defect is the only one: everything else is as an
 * ordinary event of an available customer (so it also keeps the spacing of ordinary traffic).
 */
export function invalidEvent(kind: InvalidKind, t: number, ctx: ScenarioContext): GeneratedRecord {
  const { factory, random, state } = ctx
  const customer = ctx.ordinaryCustomer(t)
  const draft = factory.draft(customer)
  if (kind === 'invalid_device') draft.method = 'mobile'
  const event = factory.build(draft, t)
  state.record(customer.index, t)
  let raw: string | undefined
  let mutable: PaymentEvent = event
  switch (kind) {
    case 'invalid_amount': {
      const off = random.int(1, 5_000) * (random.chance(0.5) ? 1 : -1)
      mutable = { ...event, total_amount: event.total_amount + off }
      break
    }
    case 'invalid_time_future':
      mutable = { ...event, timestamp: new Date(t + random.uniform(2 * HOUR, 12 * HOUR)).toISOString() }
      break
    case 'invalid_time_old':
      mutable = { ...event, timestamp: new Date(t - random.uniform(26 * HOUR, 240 * HOUR)).toISOString() }
      break
    case 'invalid_device': {
      const { app_version, device_model } = customer.device
      mutable = {
        ...event,
        device_info: random.chance(0.4)
          ? { app_version, device_model }
          : { os: random.pick(BAD_OSES), app_version, device_model }
      }
      break
    }
    case 'invalid_schema':
      raw = JSON.stringify(schemaDefect(event, random))
      break
    case 'malformed_json': {
      const line = formatEventLine(event)
      raw = random.chance(0.8)
        ? line.slice(0, random.int(10, line.length - 2))
        : line.replaceAll('"', "'").replace('null}', 'None}')
      break
    }
  }
  const valid = raw === undefined
  return {
    raw: raw ?? formatEventLine(mutable),
    event: valid ? mutable : undefined,
    key: customer.id,
    transactionId: event.transaction_id,
    label: kind,
    scenarioId: undefined,
    eventTimeMs: t,
    phase: 'live'
  }
}

function schemaDefect(event: PaymentEvent, random: Random): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...event }
  switch (random.pick(SCHEMA_DEFECTS)) {
    case 'missing':
      delete copy[random.pick(REQUIRED_FIELDS)]
      break
    case 'amount_string':
      copy.amount = String(event.amount)
      break
    case 'location_string':
      copy.location = `${event.location.lat},${event.location.lng}`
      break
    case 'unknown_method':
      copy.payment_method = 'cash'
      break
    case 'risk_string':
      copy.risk_level = 'high'
      break
  }
  return copy
}
