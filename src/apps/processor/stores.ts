import { type CustomerState, type MerchantState } from '../../domain/rules/customer-state.ts'
import {
  decodeCustomer,
  decodeMerchant,
  decodeProfile,
  encodeCustomerInto,
  encodeMerchantInto
} from '../../domain/rules/state-codec.ts'
import { globalKey, type StoreSpec } from '../../stream/keyed-state.ts'
import type { ByteSlab } from '../../bytes/index.ts'

/**
 * The processor's keyed stores. Key layout (before the StateStore adapter's own prefix and the
 * processor's `keyPrefix`):
 *   c:<topic>:<partition>:<customer_id>   customer features            (written by the partition owner)
 *   m:<topic>:<partition>:<merchant_id>   merchant decisions/fraud     (per partition: one writer per key)
 *   f:<customer_id>                       seeded profile {"avg_spend"} (read-only here; see seedProfiles)
 *   p:<topic>:<partition>                 processed offset and stream time
 *   b:<topic>:<partition>                 replay log: outputs of the last written batch
 */
export const CUSTOMERS: StoreSpec<CustomerState> = Object.freeze({
  name: 'c',
  slot: 0,
  scope: 'partition',
  codec: { decode: decodeCustomer, encode: encodeCustomerInto }
})

export const MERCHANTS: StoreSpec<MerchantState> = Object.freeze({
  name: 'm',
  slot: 1,
  scope: 'partition',
  codec: { decode: decodeMerchant, encode: encodeMerchantInto }
})

export const PROFILES: StoreSpec<number | null> = Object.freeze({
  name: 'f',
  slot: 2,
  scope: 'global',
  codec: {
    decode: decodeProfile,
    encode: (avg: number | null, slab: ByteSlab) => slab.from(JSON.stringify({ avg_spend: avg }))
  }
})

export const STORES = [CUSTOMERS, MERCHANTS, PROFILES] as readonly StoreSpec<unknown>[]

export function profileKey(keyPrefix: string, customerId: string): string {
  return globalKey(keyPrefix, PROFILES.name, customerId)
}
