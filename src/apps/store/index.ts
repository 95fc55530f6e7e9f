export { runStore, type StoreDeps } from './store.ts'
export { documentMapper, rejectDoc, RejectReason, type Placed } from './documents.ts'
export { COLLECTIONS, DEFAULT_STORE_TOPICS, STORE_INDEXES, storeTopics, type StoreTopics } from './options.ts'
export { emptyStoreTotals, type StoreTotals } from './totals.ts'
