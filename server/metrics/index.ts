import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { QueryCache } from '../cache/index.js';
import type { BreakerState, RatesProvider } from '../downstream/rates-provider.js';
import { createRequestCounter } from './request-counter.js';
import type { Admission } from '../admission/index.js';
import { registerAdmissionMetrics } from './admission.js';

export interface MetricsOptions {
  /** Procedure paths, the only values the `procedure` label takes (plus `batch` and `unknown`). */
  procedures: Iterable<string>;
  cache: Pick<QueryCache, 'stats'>;
  ratesProvider: Pick<RatesProvider, 'breakerState'>;
  /** Admission control, when on. */
  admission?: Admission | null;
}

export interface Metrics {
  /** This server's registry: several servers in one process (tests) each keep their own. */
  readonly registry: Registry;
  /** Idempotent replays served; the idempotency code increments it. */
  readonly idempotentReplays: Counter;
  /** Counts one finished response; called by the HTTP layer for every request. */
  observe(req: IncomingMessage, res: ServerResponse): void;
  /** `GET /metrics`: Prometheus text exposition. */
  handler(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open', 'isolated'];

/**
 * Prometheus metrics through prom-client. Requests, cache and rate-limit
 * counts live in plain counters on the hot path and are copied into the
 * registry only when it is scraped (prom-client's `collect` hook).
 */
export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  const requests = createRequestCounter(opts.procedures);
  const { cache, ratesProvider } = opts;
  const registers = [registry];

  // A counter mirroring a monotonic total kept elsewhere.
  const mirror = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });

  new Counter({
    name: 'composure_requests_total',
    help: 'tRPC answers by procedure (batch, unknown for others) and HTTP status.',
    labelNames: ['procedure', 'status'] as const,
    registers,
    collect() {
      this.reset();
      for (const [procedure, status, count] of requests.totals()) this.inc({ procedure, status: String(status) }, count);
    },
  });
  mirror('composure_rate_limited_total', 'Calls answered 429 (API-key bucket empty or too many failed authentications).', requests.rateLimited);
  mirror('composure_cache_hits_total', 'Queries answered from the cache.', () => cache.stats().hits);
  mirror('composure_cache_fast_path_hits_total', 'Cache hits answered before the tRPC adapter (part of the hits).', () => cache.stats().fastPathHits);
  mirror('composure_cache_misses_total', 'Queries computed because nothing was stored.', () => cache.stats().misses);
  mirror('composure_cache_collapsed_total', 'Misses that waited for a computation already running (single-flight).', () => cache.stats().collapsed);
  mirror('composure_cache_stale_total', 'Stale answers served because a fresh one could not be had.', () => cache.stats().stale);
  mirror('composure_cache_invalidated_total', 'Entries evicted by write events.', () => cache.stats().invalidated);
  new Gauge({
    name: 'composure_cache_entries',
    help: 'Entries in the query cache.',
    registers,
    collect() {
      this.set(cache.stats().entries);
    },
  });
  new Gauge({
    name: 'composure_cache_bytes',
    help: 'Serialized bytes held by the query cache.',
    registers,
    collect() {
      this.set(cache.stats().bytes);
    },
  });
  new Gauge({
    name: 'composure_breaker_state',
    help: 'Circuit breaker state: 1 for the current state, 0 for the others.',
    labelNames: ['breaker', 'state'] as const,
    registers,
    collect() {
      const current = ratesProvider.breakerState();
      for (const state of BREAKER_STATES) this.set({ breaker: 'rates', state }, state === current ? 1 : 0);
    },
  });
  if (opts.admission) registerAdmissionMetrics(registry, opts.admission);
  const idempotentReplays = new Counter({
    name: 'composure_idempotent_replays_total',
    help: 'Mutations answered by replaying a stored result (Idempotent-Replayed: true).',
    registers,
  });

  return {
    registry,
    idempotentReplays,
    observe: requests.observe,
    async handler(_req, res) {
      const text = await registry.metrics();
      res.statusCode = 200;
      res.setHeader('content-type', registry.contentType);
      res.setHeader('cache-control', 'no-store');
      res.end(text);
    },
  };
}
