import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBus } from '../events/bus.js';
import type { CacheTag } from '../meta.js';
import { inputDigest } from './input-digest.js';
import { strongEtag } from './etag.js';
import { resolvePolicies, type CachePolicy, type ProcedureLike } from './policy.js';
import { createTagIndex, tagKeysOf, tagsInvalidatedBy, type TagKey } from './tag-index.js';
import type { SharedLevel } from './shared-level.js';
import { isPartial } from './partial.js';

export type { CachePolicy } from './policy.js';

/** One stored answer: the bytes the adapter sends for a single GET, ready to write as they are. */
export interface CacheEntry {
  /** `{"result":{"data":…}}`, exactly as tRPC serializes it (no transformer). */
  readonly body: Buffer;
  /** Strong ETag of `body`. */
  readonly etag: string;
  /** When the data was produced (ms since the epoch): what `Age` counts from. */
  readonly storedAt: number;
  readonly policy: CachePolicy;
  readonly tagKeys: readonly TagKey[];
}

/**
 * What a handler may tell the cache about the answer it returns, through
 * `ctx.cacheHints`: that the data is older than this request (an upstream's
 * cached value), or that it is a stale fallback which must not be stored.
 */
export interface CacheHints {
  /** When the data was produced, if before this request (ms since the epoch). */
  storedAt?: number;
  /** A stale answer served because a fresh one could not be had. */
  stale?: boolean;
}

/** The result of `load`: the data, its serialized entry, and what the cache did. */
export interface LoadOutcome {
  data: unknown;
  entry: CacheEntry;
  /** `stored`/`not-stored`: this request computed it; `collapsed`: it joined another's computation; `stale`: a marked fallback. */
  kind: 'stored' | 'not-stored' | 'collapsed' | 'stale';
}

/** Counters the metrics read; plain numbers so the hot path pays an increment. */
export interface CacheCounters {
  /** Hits served, by either path. */
  hits: number;
  /** The part of `hits` answered in node:http, before the tRPC adapter. */
  fastPathHits: number;
  misses: number;
  collapsed: number;
  /** Stale answers served (counted by whoever serves them). */
  stale: number;
  stored: number;
  /** Entries evicted by invalidation events. */
  invalidated: number;
}

export interface QueryCache {
  /** Cached queries by path, resolved from the router's meta at start. */
  readonly policies: ReadonlyMap<string, CachePolicy>;
  /** Whether the HTTP layer answers hits before the tRPC adapter (`CACHE_FAST_PATH`); tests flip it to compare both paths. */
  fastPath: boolean;
  readonly counters: CacheCounters;
  /** The key of `policy`'s answer to `rawInput` for `tenantId` (procedure, scope and input digest); null for an input that has no canonical form (too deep, non-finite numbers). */
  keyFor(policy: CachePolicy, tenantId: number, rawInput: unknown): string | null;
  /** The same key from the input's digest (`inputDigest`), which the HTTP fast path keeps per query string. */
  keyForDigest(policy: CachePolicy, tenantId: number, digest: string): string;
  /** A fresh stored entry, or undefined. Counts nothing: callers count the hits they serve. */
  get(key: string): CacheEntry | undefined;
  /**
   * Single-flight computation of a missing key: the first caller runs
   * `compute`, concurrent callers for the same key wait for its outcome
   * (success or error). A successful, fresh, complete answer is stored
   * unless its tags were invalidated while it was computed.
   */
  load(key: string, policy: CachePolicy, tenantId: number, compute: (hints: CacheHints) => Promise<unknown>): Promise<LoadOutcome>;
  /** Evicts every entry carrying one of `tags` in `tenantId`'s scope (what a domain event does). */
  invalidate(tenantId: number | 'shared', tags: readonly CacheTag[]): void;
  /** Evicts everything, running computations included (a lossy bus reconnected: events may have been missed). */
  invalidateAll(): void;
  stats(): CacheCounters & { entries: number; bytes: number };
  close(): Promise<void>;
}

export interface QueryCacheOptions {
  config: Pick<Config, 'CACHE_MAX_ENTRIES' | 'CACHE_MAX_BYTES' | 'RATES_TTL_MS' | 'RATES_STALE_MS'> & {
    /** `false`: no query is cached (every one answers `fwd=bypass`, `no-store`), to measure the stack without it. @default true */
    CACHE_ENABLED?: boolean;
    /** @default true */
    CACHE_FAST_PATH?: boolean;
  };
  /** Domain events evict what they change; a bus fed by other instances evicts the same way. */
  bus: EventBus;
  log: Logger;
  /** The router's procedures by path (`proceduresOf(appRouter)`); their meta declares what is cached. @default {} */
  procedures?: Readonly<Record<string, ProcedureLike>>;
  /** The Redis level shared by every instance, for policies that opt in (`cacheAcrossInstances`). */
  shared?: SharedLevel;
}

interface Flight {
  promise: Promise<LoadOutcome>;
  tagKeys: readonly TagKey[];
  generations: readonly number[];
}

const SHARED_SCOPE = '*';

/*
 * What one entry costs besides its body and key: the LRU's slots, the entry
 * object, its ETag, the Buffer object and the tag index's references.
 * Measured with 50 000 entries of ~200-byte bodies (heap and external
 * memory after a full GC, divided by the count): about 700 bytes. Counting
 * it makes CACHE_MAX_BYTES a bound on what the cache holds, not only on bodies.
 */
export const ENTRY_OVERHEAD_BYTES = 700;

/** The bytes an entry holds against CACHE_MAX_BYTES: body, key (ASCII: path, scope, digest) and bookkeeping. */
export const entrySize = (key: string, body: Buffer): number => body.length + key.length + ENTRY_OVERHEAD_BYTES;

/*
 * The LRU drops an expired entry only when it is read or when space is
 * needed, so a burst of distinct queries would keep its dead answers (up to
 * CACHE_MAX_BYTES) for good. A sweep every shortest TTL, within these
 * bounds, drops them; one sweep of 50 000 entries takes a few milliseconds.
 */
const MIN_PURGE_INTERVAL_MS = 1000;
const MAX_PURGE_INTERVAL_MS = 60_000;

/** A body in memory of its own: a slice of Node's shared 8 KB pool would keep the whole slab alive as long as the entry. */
function ownBuffer(json: string): Buffer {
  const body = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
  body.write(json);
  return body;
}

/**
 * The query cache: an LRU bounded by entries (`CACHE_MAX_ENTRIES`) and by
 * bytes (`CACHE_MAX_BYTES`, counting each entry's body, key and
 * bookkeeping), TTL per procedure with expired entries swept, invalidated by
 * domain events through per-tenant tags. `CACHE_MAX_BYTES=0` stores nothing.
 */
export function createQueryCache(opts: QueryCacheOptions): QueryCache {
  const { config, bus, log } = opts;
  const maxEntries = config.CACHE_MAX_ENTRIES;
  const maxBytes = config.CACHE_MAX_BYTES;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError(`CACHE_MAX_ENTRIES must be a positive integer, got ${maxEntries}`);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`CACHE_MAX_BYTES must be an integer >= 0, got ${maxBytes}`);
  const resolved = resolvePolicies(opts.procedures ?? {}, { ratesTtlMs: config.RATES_TTL_MS, ratesStaleMs: config.RATES_STALE_MS });
  // Disabled: no query has a policy, so both paths treat every one as uncached.
  const policies: ReadonlyMap<string, CachePolicy> = config.CACHE_ENABLED === false ? new Map() : resolved;

  const tags = createTagIndex();
  const counters: CacheCounters = { hits: 0, fastPathHits: 0, misses: 0, collapsed: 0, stale: 0, stored: 0, invalidated: 0 };
  const inflight = new Map<string, Flight>();
  const lru =
    maxBytes === 0
      ? null
      : new LRUCache<string, CacheEntry>({
          max: maxEntries,
          maxSize: maxBytes,
          // Date.now, not performance.now: entries start at `storedAt`, a wall-clock time.
          perf: Date,
          dispose: (entry, key) => tags.remove(key, entry.tagKeys),
        });

  const scopeOf = (policy: CachePolicy, tenantId: number): string => (policy.scope === 'shared' ? SHARED_SCOPE : String(tenantId));

  const finish = (key: string, policy: CachePolicy, started: Omit<Flight, 'promise'>, hints: CacheHints, data: unknown): LoadOutcome => {
    const body = ownBuffer(JSON.stringify({ result: { data } }));
    const entry: CacheEntry = { body, etag: strongEtag(body), storedAt: hints.storedAt ?? Date.now(), policy, tagKeys: started.tagKeys };
    if (hints.stale) return { data, entry, kind: 'stale' };
    const ttl = policy.ttlMs - (Date.now() - entry.storedAt);
    const size = entrySize(key, body);
    const storable =
      lru !== null && ttl > 0 && size <= maxBytes && !isPartial(data) && tags.isCurrent(started.tagKeys, started.generations);
    if (!storable) return { data, entry, kind: 'not-stored' };
    lru.set(key, entry, { ttl: policy.ttlMs, start: entry.storedAt, size });
    // After set: replacing an entry disposes the old one, which removes the key from its tags.
    tags.add(key, entry.tagKeys);
    counters.stored++;
    return { data, entry, kind: 'stored' };
  };

  const shortestTtl = Math.min(MAX_PURGE_INTERVAL_MS, ...[...policies.values()].map((p) => p.ttlMs).filter((ttl) => ttl > 0));
  const purge = lru === null ? null : setInterval(() => lru.purgeStale(), Math.max(MIN_PURGE_INTERVAL_MS, shortestTtl));
  // The sweep alone must not keep a process alive.
  purge?.unref();

  const unsubscribe = bus.subscribe((event) => {
    try {
      const invalidated = tagsInvalidatedBy(event);
      if (invalidated === 'all') cache.invalidateAll();
      else if ('tenantId' in event) {
        cache.invalidate(event.tenantId, invalidated);
        opts.shared?.invalidate(tagKeysOf(String(event.tenantId), invalidated));
      }
    } catch (err) {
      log.error({ err, event }, 'cache invalidation failed');
    }
  });

  const cache: QueryCache = {
    policies,
    fastPath: config.CACHE_FAST_PATH ?? true,
    counters,
    keyFor(policy, tenantId, rawInput) {
      const digest = inputDigest(rawInput);
      return digest === null ? null : cache.keyForDigest(policy, tenantId, digest);
    },
    keyForDigest: (policy, tenantId, digest) => `${policy.path}\n${scopeOf(policy, tenantId)}\n${digest}`,
    get: (key) => lru?.get(key),
    load(key, policy, tenantId, compute) {
      const running = inflight.get(key);
      if (running && tags.isCurrent(running.tagKeys, running.generations)) {
        counters.collapsed++;
        return running.promise.then((outcome) => (outcome.kind === 'stale' ? outcome : { ...outcome, kind: 'collapsed' }));
      }
      counters.misses++;
      const tagKeys = tagKeysOf(scopeOf(policy, tenantId), policy.tags);
      const hints: CacheHints = {};
      const started = { tagKeys, generations: tags.snapshot(tagKeys) };
      let computed: Promise<unknown>;
      try {
        computed =
          opts.shared && policy.acrossInstances
            ? opts.shared.load(key, policy, tagKeys, () => compute(hints), hints)
            : compute(hints);
      } catch (err) {
        computed = Promise.reject(err);
      }
      const flight: Flight = { ...started, promise: computed.then((data) => finish(key, policy, started, hints, data)) };
      inflight.set(key, flight);
      const settle = () => {
        // A newer flight may have replaced this one after an invalidation.
        if (inflight.get(key) === flight) inflight.delete(key);
      };
      flight.promise.then(settle, settle);
      return flight.promise;
    },
    invalidate(tenantId, tagList) {
      const scope = tenantId === 'shared' ? SHARED_SCOPE : String(tenantId);
      for (const tk of tagKeysOf(scope, tagList)) {
        for (const key of tags.invalidate(tk)) {
          if (lru?.delete(key)) counters.invalidated++;
        }
      }
    },
    invalidateAll() {
      tags.invalidateAll();
      counters.invalidated += lru?.size ?? 0;
      lru?.clear();
    },
    stats: () => ({ ...counters, entries: lru?.size ?? 0, bytes: lru?.calculatedSize ?? 0 }),
    async close() {
      if (purge) clearInterval(purge);
      unsubscribe();
      inflight.clear();
      tags.invalidateAll();
      lru?.clear();
    },
  };
  return cache;
}
