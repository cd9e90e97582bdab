import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CachePolicy } from './policy.js';
import type { TagKey } from './tag-index.js';
import { isPartial } from './partial.js';

/** What a computation may say about its answer (the subset of CacheHints the shared level reads and sets). */
interface Hints {
  storedAt?: number;
  stale?: boolean;
}

/**
 * A second cache level in Redis for answers worth sharing between instances
 * (meta `cacheAcrossInstances`: `stats.summary`, `rates.latest`): one
 * instance computes, the others read its result.
 */
export interface SharedLevel {
  load(key: string, policy: CachePolicy, tagKeys: readonly TagKey[], compute: () => Promise<unknown>, hints: Hints): Promise<unknown>;
  /** A write changed these tags: entries stored under their current generations become unreachable. */
  invalidate(tagKeys: readonly TagKey[]): void;
}

export interface SharedLevelOptions {
  redis: Redis;
  /** e.g. `composure:` */
  prefix: string;
  /** Longest wait for Redis before computing locally. */
  timeoutMs: number;
  /** Whether the connection is usable now; when not, Redis is skipped without a round trip. */
  ready: () => boolean;
  log: Logger;
}

// Invalidation without a key scan: every tag has a generation counter, and an
// entry's Redis key carries the generations read before it was computed. A
// write bumps the counters, so entries computed before it are never read
// again (they expire by TTL). The lookup reads the counters and the entry in
// one script: one round trip, and atomic with respect to a bump.
const LOOKUP = `
local gens = {}
for i, k in ipairs(KEYS) do gens[i] = redis.call('GET', k) or '0' end
local id = ARGV[1] .. ':' .. table.concat(gens, '.')
return { id, redis.call('GET', id) }
`;
// Generations outlive any entry by far; they expire only so a tenant that is
// gone leaves nothing behind.
const GENERATION_TTL_MS = 7 * 24 * 3600 * 1000;

interface Stored {
  storedAt: number;
  data: unknown;
}

export function createRedisSharedLevel(opts: SharedLevelOptions): SharedLevel {
  const { redis, prefix, timeoutMs, log } = opts;
  const genKey = (tagKey: TagKey) => `${prefix}l2gen:${tagKey}`;
  const entryBase = (key: string) => `${prefix}l2:${createHash('sha256').update(key).digest('base64url')}`;

  const lookup = (keys: string[], base: string): Promise<[string, string | null] | null> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      redis.eval(LOOKUP, keys.length, ...keys, base).then(
        (reply) => {
          clearTimeout(timer);
          resolve(reply as [string, string | null]);
        },
        (err: unknown) => {
          clearTimeout(timer);
          log.debug({ err }, 'shared cache lookup failed; computing locally');
          resolve(null);
        },
      );
    });

  return {
    async load(key, policy, tagKeys, compute, hints) {
      if (!opts.ready()) return compute();
      const found = await lookup(tagKeys.map(genKey), entryBase(key));
      if (found?.[1]) {
        try {
          const stored = JSON.parse(found[1]) as Stored;
          hints.storedAt = stored.storedAt;
          return stored.data;
        } catch {
          // A corrupt entry is a miss.
        }
      }
      const data = await compute();
      const storedAt = hints.storedAt ?? Date.now();
      const ttl = policy.ttlMs - (Date.now() - storedAt);
      if (found && !hints.stale && !isPartial(data) && ttl > 0) {
        const value: Stored = { storedAt, data };
        redis.set(found[0], JSON.stringify(value), 'PX', Math.ceil(ttl)).catch(() => undefined);
      }
      return data;
    },
    invalidate(tagKeys) {
      if (!opts.ready()) return;
      // Sent on the same connection before any later lookup, so the writer's
      // next read cannot see the entry its write made stale.
      const pipeline = redis.pipeline();
      for (const tk of tagKeys) pipeline.incr(genKey(tk)).pexpire(genKey(tk), GENERATION_TTL_MS);
      pipeline.exec().catch(() => undefined);
    },
  };
}
