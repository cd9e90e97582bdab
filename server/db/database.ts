import type { Logger } from 'pino';
import type { SeedOptions } from './seed.js';
import type { ApiKeysRepo, PaymentsRepo, Repos, UsersRepo } from '../repos/repos.js';
import type { IdempotencyStore } from '../idempotency/store.js';

/**
 * One database, whatever the dialect (drizzle's own driver folders are the
 * model: one interface, a thin glue file per driver). Built once, at the
 * composition root, from DATABASE_URL: server/db/connect.ts.
 */
export interface Database {
  readonly dialect: 'sqlite' | 'postgres';
  readonly users: UsersRepo;
  readonly payments: PaymentsRepo;
  readonly apiKeys: ApiKeysRepo;
  /** One write transaction: `work` gets the repositories bound to it; it commits when `work` resolves, else rolls back. */
  transaction<T>(work: (tx: Repos) => Promise<T>): Promise<T>;
  /** The idempotency store on this database (claims, stored answers). */
  idempotencyStore(opts: { lockMs: number; now: () => number }): IdempotencyStore;
  /** CURSOR_SECRET when configured, else one generated on first start and kept in the database. */
  cursorSecret(configured: string | undefined): Promise<string>;
  /** Raw SQL with `?` placeholders, for operations and tests; never on a request path. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** One cheap round trip: /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What start-up may do to a freshly migrated database (server/db/seed-on-start.ts). */
export interface SeedTarget {
  isEmpty(): Promise<boolean>;
  seed(opts: SeedOptions): Promise<void>;
}

export interface ConnectOptions {
  log: Logger;
  /** Runs once the migrations are applied, under the dialect's start-up lock (seeding). */
  onMigrated?: (target: SeedTarget) => Promise<void>;
}
