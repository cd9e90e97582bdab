import type { ApiKeyRow, PaymentRow, UserRow } from '../../drizzle/schema.js';
import type { CentsTotal } from '../../shared/schemas/money.js';

/*
 * The repositories every dialect implements (server/repos/sqlite/,
 * server/repos/postgres/): async, so one router and one mapper serve both
 * a synchronous embedded driver and a networked pool. Row types come from
 * the SQLite schema; the PostgreSQL schema's rows are type-tested to match.
 */

export interface UsersRepo {
  /** Keyset page: rows with id > afterId, ascending; `limit` is the page size plus one to detect more. */
  page(tenantId: number, afterId: number, limit: number): Promise<UserRow[]>;
  byId(tenantId: number, id: number): Promise<UserRow | undefined>;
  /** Throws DuplicateError when the tenant already has a user with this email. */
  insert(tenantId: number, name: string, email: string): Promise<UserRow>;
  /** Rows deleted (0 or 1). */
  remove(tenantId: number, id: number): Promise<number>;
}

export interface PaymentInsert {
  tenantId: number;
  userId: number;
  amountCents: number;
  currency: string;
}

export interface StatsSummary {
  users: number;
  payments: number;
  /** Exact: a number while safe, else its digits (shared/schemas/money.ts). */
  totalsByCurrency: Record<string, CentsTotal>;
}

export interface PaymentsRepo {
  page(tenantId: number, afterId: number, limit: number, userId?: number): Promise<PaymentRow[]>;
  insert(row: PaymentInsert): Promise<PaymentRow>;
  /** The expensive aggregate behind `stats.summary`: a scan of the tenant's payments. */
  summary(tenantId: number): Promise<StatsSummary>;
}

export type ApiKeyRecord = Pick<ApiKeyRow, 'id' | 'tenantId' | 'planName'> & {
  burst: ApiKeyRow['rateLimitBurst'];
  perSecond: ApiKeyRow['rateLimitPerSecond'];
};

export interface ApiKeysRepo {
  /** The live (not revoked) key with this SHA-256 hash. */
  byHash(hash: string): Promise<ApiKeyRecord | undefined>;
}

/** What a write transaction may touch: the same repositories, bound to the transaction. */
export interface Repos {
  users: UsersRepo;
  payments: PaymentsRepo;
}

/** A unique constraint refused the row (a duplicate email): each dialect turns its driver's error into this. */
export class DuplicateError extends Error {
  override readonly name = 'DuplicateError';
}
