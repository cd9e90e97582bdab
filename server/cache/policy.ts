import type { CacheTag, Meta } from '../meta.js';

/** How one query is cached: resolved once from its meta and the config. */
export interface CachePolicy {
  /** The procedure path, e.g. `users.list`. */
  readonly path: string;
  /** Fresh lifetime of a stored answer, in ms. */
  readonly ttlMs: number;
  /** The per-scope tags whose invalidation evicts this query's entries. */
  readonly tags: readonly CacheTag[];
  /** `tenant`: one entry per tenant; `shared`: one for every caller (data no tenant owns). */
  readonly scope: 'tenant' | 'shared';
  /** Cache-Control of a successful GET (RFC 9111 §5.2.2). */
  readonly cacheControl: string;
  /** Tokens a call takes from the caller's bucket (meta `cost`), which the HTTP fast path charges. */
  readonly cost: number;
  /** Also kept in the Redis level every instance shares (meta `cacheAcrossInstances`), when Redis is configured. */
  readonly acrossInstances: boolean;
}

export interface PolicyConfig {
  /** What `cacheTtlMs: 'rates'` means (`RATES_TTL_MS`). */
  ratesTtlMs: number;
  /** How long stale rates may still be served (`RATES_STALE_MS`), for `stale-if-error`. */
  ratesStaleMs: number;
}

/** A procedure as the router holds it: only what the cache reads. */
export interface ProcedureLike {
  _def: { type: string; meta?: unknown };
}

/*
 * Tenant data: `private`, since the answer depends on the API key and a
 * shared cache must not hand it to anyone else (RFC 9111 §5.2.2.7); and
 * `no-cache`, since a write can change it at any moment: a browser may keep
 * it but must revalidate each use (§5.2.2.4), which the ETag makes a cheap
 * 304, and which keeps read-your-writes true through the browser cache too.
 */
const TENANT_CACHE_CONTROL = 'private, no-cache';

/*
 * Shared data (the rates) changes on a clock, not on writes, so a client may
 * reuse it for its fresh lifetime. Still `private`: every call needs an API
 * key and counts against its limit, which a shared cache answering for us
 * would bypass. `stale-if-error` (RFC 5861 §4) lets a client cache do what
 * the server does when the provider fails.
 */
function sharedCacheControl(ttlMs: number, staleIfErrorMs: number | null): string {
  const maxAge = `private, max-age=${Math.floor(ttlMs / 1000)}`;
  return staleIfErrorMs === null ? maxAge : `${maxAge}, stale-if-error=${Math.floor(staleIfErrorMs / 1000)}`;
}

/** The policy of one procedure, or null when it is not a cached query. Throws on a bad meta, at start. */
export function resolvePolicy(path: string, procedure: ProcedureLike, config: PolicyConfig): CachePolicy | null {
  const meta = procedure._def.meta as Meta | undefined;
  if (procedure._def.type !== 'query' || meta?.cacheTtlMs === undefined) return null;
  const rates = meta.cacheTtlMs === 'rates';
  const ttlMs = rates ? config.ratesTtlMs : meta.cacheTtlMs;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new RangeError(`${path}: meta cacheTtlMs must be a number >= 0 or 'rates', got ${String(meta.cacheTtlMs)}`);
  }
  const cost = meta.cost ?? 1;
  if (!(cost > 0 && cost < Infinity)) throw new RangeError(`${path}: meta cost must be a positive number, got ${cost}`);
  const scope = meta.cacheScope ?? 'tenant';
  return {
    path,
    ttlMs,
    tags: meta.cacheTags ?? [],
    scope,
    cacheControl: scope === 'tenant' ? TENANT_CACHE_CONTROL : sharedCacheControl(ttlMs, rates ? config.ratesStaleMs : null),
    cost,
    acrossInstances: meta.cacheAcrossInstances ?? false,
  };
}

function isProcedure(value: unknown): value is ProcedureLike {
  return typeof value === 'function' && '_def' in value && typeof value._def === 'object' && value._def !== null && 'type' in value._def;
}

/**
 * A router's procedures by dotted path. tRPC keeps them flat at runtime in
 * `_def.procedures` (its type shows the nested record), so this narrows
 * each value instead of casting the whole.
 */
export function proceduresOf(router: { _def: { procedures: object } }): Record<string, ProcedureLike> {
  const table: Record<string, ProcedureLike> = {};
  for (const [path, value] of Object.entries(router._def.procedures)) {
    if (isProcedure(value)) table[path] = value;
  }
  return table;
}

/** Every cached query of a router (`proceduresOf(appRouter)`), by path. */
export function resolvePolicies(
  procedures: Readonly<Record<string, ProcedureLike>>,
  config: PolicyConfig,
): ReadonlyMap<string, CachePolicy> {
  const policies = new Map<string, CachePolicy>();
  for (const [path, procedure] of Object.entries(procedures)) {
    const policy = resolvePolicy(path, procedure, config);
    if (policy) policies.set(path, policy);
  }
  return policies;
}
