export { buildApi, DEFAULT_BODY_LIMIT } from './api.ts'
export { MemoryAlertStore } from './alert-store.ts'
export { DecisionService, type DecisionServiceOptions } from './decision-service.ts'
export type { ApiErrorBody } from './errors.ts'
export type {
  AlertPage,
  AlertQuery,
  AlertStore,
  ApiDeps,
  ReportsDeps,
  HealthCheck,
  HealthChecks,
  StatsProvider,
  StoredAlert
} from './types.ts'
export { listen } from './listen.ts'
