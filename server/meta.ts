import type { RestRoute } from './rest/route.js';

/** Per-procedure settings the middleware read (`.meta({...})`). */
export interface Meta {
  /** Tokens one call takes from the caller's bucket. @default 1 */
  cost?: number;
  /** Mutations: whether an Idempotency-Key is required. @default 'optional' */
  idempotency?: 'required' | 'optional';
  /** Queries: cache the answer this long (ms). No cache when absent. */
  cacheTtlMs?: number | 'rates';
  /** Queries: the per-tenant tags a write must evict (`users`, `payments`, `stats`). */
  cacheTags?: readonly CacheTag[];
  /** Queries: `shared` when the answer is the same for every tenant (one cache entry for all). @default 'tenant' */
  cacheScope?: 'tenant' | 'shared';
  /** Queries: expensive answers also kept in Redis, so instances share one computation. @default false */
  cacheAcrossInstances?: boolean;
  /** The procedure's plain REST route under /api, which server/rest serves and documents in /openapi.json. */
  rest?: RestRoute;
}
export type CacheTag = 'users' | 'payments' | 'stats' | 'rates';
