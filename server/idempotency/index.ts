import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { startPurgeJob, type PurgeReport } from './purge.js';
import type { Database } from '../db/database.js';
import type { IdempotencyStore } from './store.js';

export type { Claim, ClaimOutcome, Committed, KeyRow, KeyScope, StoredResponse } from './store.js';
export type { PurgeReport } from './purge.js';

export interface IdempotencyOptions {
  database: Database;
  config: Pick<Config, 'IDEMPOTENCY_TTL_MS' | 'IDEMPOTENCY_LOCK_MS' | 'IDEMPOTENCY_PURGE_INTERVAL_MS'>;
  log: Logger;
  /** Clock in ms, for claims, lock ages and expiry. @default Date.now */
  now?: () => number;
  /** Rows deleted per purge statement. @default 500 */
  purgeBatchSize?: number;
}

/** The idempotency store plus its expiry job; built once per server. */
export interface IdempotencyService extends IdempotencyStore {
  /** How long a running request's claim holds its key before a retry in this process may take it over. */
  readonly lockMs: number;
  /** Runs the expiry purge now (it also runs every `IDEMPOTENCY_PURGE_INTERVAL_MS`). */
  purgeExpired(): Promise<PurgeReport>;
  close(): Promise<void>;
}

export function createIdempotency(opts: IdempotencyOptions): IdempotencyService {
  const now = opts.now ?? Date.now;
  const lockMs = opts.config.IDEMPOTENCY_LOCK_MS;
  const store = opts.database.idempotencyStore({ lockMs, now });
  const purge = startPurgeJob({
    store,
    ttlMs: opts.config.IDEMPOTENCY_TTL_MS,
    intervalMs: opts.config.IDEMPOTENCY_PURGE_INTERVAL_MS,
    batchSize: opts.purgeBatchSize ?? 500,
    now,
    log: opts.log,
  });
  return {
    ...store,
    lockMs,
    purgeExpired: purge.run,
    close: purge.stop,
  };
}
