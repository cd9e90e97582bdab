import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

// Placeholder seam: replaced by the idempotency store and purge job.
export interface IdempotencyService {
  close(): Promise<void>;
}

export function createIdempotency(_opts: { sqlite: Database.Database; config: Config; log: Logger }): IdempotencyService {
  return { close: async () => {} };
}
