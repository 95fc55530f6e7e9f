import { COMMISSION_TYPES, CUSTOMER_TYPES, MERCHANT_CATEGORIES, PAYMENT_METHODS } from '../../domain/event.ts'
import type {
  CommissionType,
  CustomerType,
  DeviceInfo,
  GeoPoint,
  MerchantCategory
} from '../../domain/event.ts'
import { AliasTable, Random } from '../../domain/random.ts'
import { TEHRAN_BOX, jitter } from './places.ts'

/**
 * The simulated world: customers with habits, merchants with categories. Built once from
 * its own random stream, so the same seed gives the same people whatever the rates are.
 */

export interface Merchant {
  readonly index: number
  readonly id: string
  readonly category: MerchantCategory
  readonly location: GeoPoint
  readonly commissionType: CommissionType
  /** `"merchant_id":…,"merchant_category":…`: JSON fragments precomputed for the line formatter. */
  readonly json: string
  /** `"commission_type":…` */
  readonly commissionJson: string
}

export interface Customer {
  readonly index: number
  /** `cust_N`, N from 1. */
  readonly id: string
  readonly type: CustomerType
  /** 1 (lowest) to 5. */
  readonly riskLevel: number
  readonly home: GeoPoint
  /** Home first, then 1–3 regular places within 5 km of it; every ordinary payment is made near one of them. */
  readonly places: readonly GeoPoint[]
  /** 1–3 cards, `card_<16 hex>`; the first is the main one. */
  readonly cards: readonly string[]
  /** Median amount of this customer's ordinary payments (Rial), 50,000–2,000,000. */
  readonly habit: number
  /** Indices of the 3–6 merchants this customer usually pays. */
  readonly merchants: readonly number[]
  /** Weights over PAYMENT_METHODS. */
  readonly methodWeights: readonly number[]
  /** The customer's phone, used for online and mobile payments (frozen, shared by events). */
  readonly device: Readonly<DeviceInfo>
  /** Per card: `"customer_id":…,"card_id":…` (JSON fragments precomputed for the line formatter). */
  readonly cardJson: readonly string[]
  /** `"customer_type":…,"risk_level":…` */
  readonly tailJson: string
  /** `JSON.stringify(device)` */
  readonly deviceJson: string
}

export interface Population {
  readonly customers: readonly Customer[]
  readonly merchants: readonly Merchant[]
  /** Draws a customer with probability proportional to how active they are. */
  readonly activity: AliasTable
}

/** Bounds of a customer's habit (median amount) in Rial. */
export const HABIT_MIN = 50_000
export const HABIT_MAX = 2_000_000
const HABIT_MEDIAN = 500_000

const CATEGORY_WEIGHTS = [0.3, 0.35, 0.1, 0.15, 0.1] // retail, food_service, entertainment, transportation, government
const CUSTOMER_TYPE_WEIGHTS = [0.75, 0.1, 0.15] // individual, CIP, business
const RISK_WEIGHTS = [0.35, 0.3, 0.2, 0.1, 0.05]
const CARD_COUNT_WEIGHTS = [0.5, 0.35, 0.15]
const DEVICES = Object.freeze({
  iOS: ['iPhone 12', 'iPhone 13', 'iPhone 14', 'iPhone 15 Pro'],
  Android: [
    'Samsung Galaxy S23',
    'Samsung Galaxy A54',
    'Xiaomi Redmi Note 12',
    'Xiaomi Poco X5',
    'Huawei P30 Lite'
  ]
})
const APP_VERSIONS = ['2.4.1', '3.0.2', '3.1.0']

function buildMerchants(count: number, random: Random): Merchant[] {
  const merchants: Merchant[] = []
  for (let i = 0; i < count; i++) {
    // The first five cover every category, so small worlds still have all of them.
    const category =
      i < MERCHANT_CATEGORIES.length
        ? MERCHANT_CATEGORIES[i]
        : random.weightedPick(MERCHANT_CATEGORIES, CATEGORY_WEIGHTS)
    const id = `merch_${i + 1}`
    const commissionType = COMMISSION_TYPES[i % COMMISSION_TYPES.length] as CommissionType
    merchants.push(
      Object.freeze({
        index: i,
        id,
        category: category as MerchantCategory,
        location: {
          lat: random.uniform(TEHRAN_BOX.latMin, TEHRAN_BOX.latMax),
          lng: random.uniform(TEHRAN_BOX.lngMin, TEHRAN_BOX.lngMax)
        },
        commissionType,
        json: `"merchant_id":${JSON.stringify(id)},"merchant_category":${JSON.stringify(category)}`,
        commissionJson: `"commission_type":${JSON.stringify(commissionType)}`
      })
    )
  }
  return merchants
}

function preferredMerchants(merchants: readonly Merchant[], random: Random): number[] {
  const categories = [
    random.weightedPick(MERCHANT_CATEGORIES, CATEGORY_WEIGHTS),
    random.weightedPick(MERCHANT_CATEGORIES, CATEGORY_WEIGHTS)
  ]
  const wanted = Math.min(merchants.length, random.int(3, 6))
  const chosen = new Set<number>()
  for (let tries = 0; chosen.size < wanted && tries < 50; tries++) {
    const m = random.pick(merchants)
    // Mostly shops of the customer's favourite categories, sometimes anything.
    if (categories.includes(m.category) || tries > 30) chosen.add(m.index)
  }
  if (chosen.size === 0) chosen.add(0)
  return [...chosen]
}

function buildCustomer(index: number, merchants: readonly Merchant[], random: Random): Customer {
  const home = {
    lat: random.uniform(TEHRAN_BOX.latMin, TEHRAN_BOX.latMax),
    lng: random.uniform(TEHRAN_BOX.lngMin, TEHRAN_BOX.lngMax)
  }
  const places: GeoPoint[] = [home]
  for (let i = random.int(1, 3); i > 0; i--) places.push(jitter(home, 5, random))
  const cards: string[] = []
  for (let i = random.weightedIndex(CARD_COUNT_WEIGHTS); i >= 0; i--) cards.push(`card_${random.hex(8)}`)
  const habit = Math.round(Math.min(HABIT_MAX, Math.max(HABIT_MIN, random.lognormal(HABIT_MEDIAN, 0.6))))
  const os = random.chance(0.6) ? 'Android' : 'iOS'
  const device = Object.freeze({
    os,
    app_version: random.pick(APP_VERSIONS),
    device_model: random.pick(DEVICES[os])
  })
  const id = `cust_${index + 1}`
  const type = random.weightedPick(CUSTOMER_TYPES, CUSTOMER_TYPE_WEIGHTS)
  const riskLevel = random.weightedIndex(RISK_WEIGHTS) + 1
  return Object.freeze({
    index,
    id,
    type,
    riskLevel,
    home,
    places,
    cards,
    habit,
    merchants: preferredMerchants(merchants, random),
    methodWeights: PAYMENT_METHODS.map(() => random.uniform(0.5, 1.5)),
    device,
    cardJson: cards.map(card => `"customer_id":${JSON.stringify(id)},"card_id":${JSON.stringify(card)}`),
    tailJson: `"customer_type":${JSON.stringify(type)},"risk_level":${riskLevel}`,
    deviceJson: JSON.stringify(device)
  })
}

export function buildPopulation(seed: string, customerCount: number, merchantCount: number): Population {
  const random = Random.derive(seed, 'population')
  const merchants = buildMerchants(merchantCount, random)
  const customers: Customer[] = []
  const activity = new Float64Array(customerCount)
  for (let i = 0; i < customerCount; i++) {
    customers.push(buildCustomer(i, merchants, random))
    // Some customers pay more often than others; kept mild so none is always busy.
    activity[i] = random.lognormal(1, 0.4)
  }
  return Object.freeze({ customers, merchants, activity: new AliasTable(activity) })
}
