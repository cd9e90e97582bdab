import { and, eq, isNull, sql } from 'drizzle-orm';
import { apiKeys } from '../../../drizzle/postgres/schema.js';
import type { ApiKeysRepo } from '../repos.js';
import { rethrow } from '../../db/postgres/pool.js';
import type { PgDb } from './db.js';

export function createPostgresApiKeysRepo(db: PgDb): ApiKeysRepo {
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
    .prepare('api_keys_by_hash');
  return { byHash: async (hash) => (await byHash.execute({ hash }).catch(rethrow))[0] };
}
