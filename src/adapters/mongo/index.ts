export {
  MongoDocumentStore,
  UPSERT_CHUNK,
  databaseFromUrl,
  type MongoConnectOptions
} from './document-store.ts'
export { isTransientMongoError, mongoError } from './errors.ts'
export { redactMongoUrl } from './url.ts'
export { MongoAlertStore } from './alert-store.ts'
