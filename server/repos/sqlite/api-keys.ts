import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/open.js';
import { apiKeys } from '../../../drizzle/schema.js';
import type { ApiKeysRepo } from '../repos.js';

/** The API-key look-up on SQLite, synchronous (better-sqlite3). */
export function sqliteApiKeysStatements(db: Db) {
  const byHash = db
    .select({
      id: apiKeys.id,
      tenantId: apiKeys.tenantId,
      planName: apiKeys.planName,
      burst: apiKeys.rateLimitBurst,
      perSecond: apiKeys.rateLimitPerSecond,
    })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, sql.placeholder('hash')), isNull(apiKeys.revokedAt)))
    .prepare();
  return { byHash: (hash: string) => byHash.get({ hash }) };
}

export function createSqliteApiKeysRepo(db: Db): ApiKeysRepo {
  const s = sqliteApiKeysStatements(db);
  return { byHash: async (hash) => s.byHash(hash) };
}
