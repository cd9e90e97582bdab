import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { apiKeys } from '../../drizzle/schema.js';

export function createApiKeysRepo(db: Db) {
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
export type ApiKeysRepo = ReturnType<typeof createApiKeysRepo>;
export type ApiKeyRecord = NonNullable<ReturnType<ApiKeysRepo['byHash']>>;
