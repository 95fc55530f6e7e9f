import { commissionFor, vatFor } from '../../domain/commission.ts'
import { FAILURE_REASONS, PAYMENT_METHODS } from '../../domain/event.ts'
import type {
  DeviceInfo,
  FailureReason,
  GeoPoint,
  PaymentEvent,
  PaymentMethod,
  ScenarioLabel
} from '../../domain/event.ts'
import type { Random } from '../../domain/random.ts'
import { jitter } from './places.ts'
import type { Customer, Merchant, Population } from './population.ts'

/** One unit of generator output: the bytes to send plus what only the generator knows. */
export interface GeneratedRecord {
  /** The exact payload (one JSON line without the newline); not JSON at all for `malformed_json`. */
  readonly raw: string
  /** The event object, when the payload is a well-typed event (absent for invalid_schema and malformed_json). */
  readonly event: PaymentEvent | undefined
  /** Partition key: the customer id. */
  readonly key: string
  /** The transaction id, known even when the payload is broken. */
  readonly transactionId: string
  /** Ground truth; never part of the payload. */
  readonly label: ScenarioLabel
  /** `sc_<n>` for every event of an injected fraud scenario (setup events included). */
  readonly scenarioId: string | undefined
  /** Generation time (epoch ms): the Kafka record timestamp; equals the payload timestamp except for time-warp events. */
  readonly eventTimeMs: number
  readonly phase: 'history' | 'live'
}

/** Ordinary amounts stay within [habit / 2.4, 4 × habit], so no ordinary amount exceeds 9.6× any mean of others. */
export const AMOUNT_LOW_FACTOR = 1 / 2.4
export const AMOUNT_HIGH_FACTOR = 4
const AMOUNT_SIGMA = 0.45
const FAILURE_WEIGHTS = [0.3, 0.4, 0.2, 0.1]
const PREFERRED_MERCHANT_SHARE = 0.85
/** Ordinary payments are made within this distance of one of the customer's places. */
const PLACE_JITTER_KM = 0.15
const EMPTY_DEVICE: Readonly<DeviceInfo> = Object.freeze({})

const deviceJson = new WeakMap<object, string>()
const ZEROS = ['', '0', '00', '000', '0000', '00000']

/**
 * JSON of a coordinate with at most 6 decimals (what the generator makes), from integer
 * arithmetic: the same text as `String(x)` at about half the cost. Anything else falls back.
 */
export function coordJson(x: number): string {
  const micro = Math.round(x * 1e6)
  if (micro < 0 || micro / 1e6 !== x) return String(x)
  const whole = Math.floor(micro / 1e6)
  let frac = micro - whole * 1e6
  if (frac === 0) return String(whole)
  let digits = 6
  while (frac % 10 === 0) {
    frac /= 10
    digits--
  }
  const text = String(frac)
  return `${whole}.${ZEROS[digits - text.length] as string}${text}`
}

/** '.000Z' … '.999Z' */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}Z`)

/**
 * ISO-8601 UTC with milliseconds (`2025-04-26T12:19:10.304Z`). Event times mostly increase,
 * so the `YYYY-MM-DDTHH:MM:SS` part is cached per second and only the millis are appended.
 */
export class TimestampFormatter {
  private second = Number.NaN
  private prefix = ''

  format(ms: number): string {
    const second = Math.floor(ms / 1000)
    if (second !== this.second) {
      this.second = second
      this.prefix = new Date(second * 1000).toISOString().slice(0, 19)
    }
    return this.prefix + (MILLIS[ms - second * 1000] as string)
  }
}

export interface EventDraft {
  customer: Customer
  merchant: Merchant
  card: string
  method: PaymentMethod
  amount: number
  location: GeoPoint
  approved: boolean
}

/**
 * The event as one JSON line. Equal to `JSON.stringify(event)` for events whose strings need
 * no escaping, which holds for everything the generator makes (ids, enums, hex, ISO times,
 * device names): a template is several times faster than the generic serialiser.
 */
export function formatEventLine(e: PaymentEvent): string {
  const d = e.device_info
  let device = '{}'
  if (d !== EMPTY_DEVICE) {
    // Customers' devices are frozen and shared by their events: serialise each once.
    device = deviceJson.get(d) ?? JSON.stringify(d)
    if (Object.isFrozen(d)) deviceJson.set(d, device)
  }
  return `{"transaction_id":"${e.transaction_id}","timestamp":"${e.timestamp}","customer_id":"${e.customer_id}","card_id":"${e.card_id}","merchant_id":"${e.merchant_id}","merchant_category":"${e.merchant_category}","payment_method":"${e.payment_method}","amount":${e.amount},"location":{"lat":${coordJson(e.location.lat)},"lng":${coordJson(e.location.lng)}},"device_info":${device},"status":"${e.status}","commission_type":"${e.commission_type}","commission_amount":${e.commission_amount},"vat_amount":${e.vat_amount},"total_amount":${e.total_amount},"customer_type":"${e.customer_type}","risk_level":${e.risk_level},"failure_reason":${e.failure_reason === null ? 'null' : `"${e.failure_reason}"`}}`
}

/** Draws the parts of events and assembles them; all randomness comes from `random`. */
export class EventFactory {
  readonly timestamps = new TimestampFormatter()

  constructor(
    readonly population: Population,
    readonly random: Random,
    private readonly declinedRate: number
  ) {}

  /** An ordinary amount for this customer (log-normal around the habit, clipped). */
  amount(customer: Customer, low = AMOUNT_LOW_FACTOR, high = AMOUNT_HIGH_FACTOR): number {
    const habit = customer.habit
    const raw = this.random.lognormal(habit, AMOUNT_SIGMA)
    return Math.round(Math.min(habit * high, Math.max(habit * low, raw)))
  }

  /** A point close to one of the customer's usual places. */
  nearHome(customer: Customer): GeoPoint {
    return jitter(this.random.pick(customer.places), PLACE_JITTER_KM, this.random)
  }

  merchantFor(customer: Customer): Merchant {
    const { merchants } = this.population
    if (this.random.next() < PREFERRED_MERCHANT_SHARE) {
      return merchants[this.random.pick(customer.merchants)] as Merchant
    }
    return this.random.pick(merchants)
  }

  card(customer: Customer): string {
    const cards = customer.cards
    return cards.length === 1 || this.random.next() < 0.7 ? (cards[0] as string) : this.random.pick(cards)
  }

  method(customer: Customer): PaymentMethod {
    return PAYMENT_METHODS[this.random.weightedIndex(customer.methodWeights)] as PaymentMethod
  }

  /** An ordinary payment of `customer`: preferred merchant, usual place, usual amount. */
  draft(customer: Customer): EventDraft {
    return {
      customer,
      merchant: this.merchantFor(customer),
      card: this.card(customer),
      method: this.method(customer),
      amount: this.amount(customer),
      location: this.nearHome(customer),
      approved: !(this.declinedRate > 0 && this.random.next() < this.declinedRate)
    }
  }

  /** The event of a draft at event time `ms`, with consistent commission, VAT and total. */
  build(d: EventDraft, ms: number): PaymentEvent {
    const commissionType = d.merchant.commissionType
    const commission = commissionFor(commissionType, d.amount)
    const vat = vatFor(d.amount)
    const online = d.method === 'online' || d.method === 'mobile'
    return {
      transaction_id: this.random.uuid(),
      timestamp: this.timestamps.format(ms),
      customer_id: d.customer.id,
      card_id: d.card,
      merchant_id: d.merchant.id,
      merchant_category: d.merchant.category,
      payment_method: d.method,
      amount: d.amount,
      location: d.location,
      device_info: online ? d.customer.device : EMPTY_DEVICE,
      status: d.approved ? 'approved' : 'declined',
      commission_type: commissionType,
      commission_amount: commission,
      vat_amount: vat,
      total_amount: d.amount + vat + commission,
      customer_type: d.customer.type,
      risk_level: d.customer.riskLevel,
      failure_reason: d.approved ? null : this.failureReason()
    }
  }

  /**
   * A valid event and its line. The line is assembled from fragments precomputed per
   * customer and merchant; it equals `formatEventLine(event)` (and `JSON.stringify`).
   */
  record(
    d: EventDraft,
    ms: number,
    label: ScenarioLabel,
    scenarioId: string | undefined,
    phase: 'history' | 'live'
  ): GeneratedRecord {
    const e = this.build(d, ms)
    const c = d.customer
    const head = c.cardJson[c.cards.indexOf(d.card)]
    const raw =
      head === undefined
        ? formatEventLine(e)
        : `{"transaction_id":"${e.transaction_id}","timestamp":"${e.timestamp}",${head},${d.merchant.json},"payment_method":"${e.payment_method}","amount":${e.amount},"location":{"lat":${coordJson(e.location.lat)},"lng":${coordJson(e.location.lng)}},"device_info":${e.device_info === EMPTY_DEVICE ? '{}' : c.deviceJson},"status":"${e.status}",${d.merchant.commissionJson},"commission_amount":${e.commission_amount},"vat_amount":${e.vat_amount},"total_amount":${e.total_amount},${c.tailJson},"failure_reason":${e.failure_reason === null ? 'null' : `"${e.failure_reason}"`}}`
    return {
      raw,
      event: e,
      key: c.id,
      transactionId: e.transaction_id,
      label,
      scenarioId,
      eventTimeMs: ms,
      phase
    }
  }

  private failureReason(): FailureReason {
    return FAILURE_REASONS[this.random.weightedIndex(FAILURE_WEIGHTS)] as FailureReason
  }
}
