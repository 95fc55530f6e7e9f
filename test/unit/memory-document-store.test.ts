import { MemoryDocumentStore } from '../../src/adapters/memory/index.ts'
import { documentStoreConformance } from '../helpers/document-store-conformance.ts'

documentStoreConformance('memory', async () => ({
  store: new MemoryDocumentStore(),
  cleanup: async () => {}
}))
