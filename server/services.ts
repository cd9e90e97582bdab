import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { connectDatabase, poolOptions } from './db/connect.js';
import type { PaymentsRepo, UsersRepo } from './repos/repos.js';
import { seedOnStart } from './db/seed-on-start.js';
import { createCursorCodec, type CursorCodec } from './pagination/cursor-codec.js';
import { createAuthenticator, type Authenticator } from './auth/authenticate.js';
import { createAuthGate, type AuthGate } from './auth/auth-gate.js';
import { createMemoryBus, type EventBus } from './events/bus.js';
import { createRedisBus } from './events/redis-bus.js';
import { connectRedis, type RedisConnections } from './redis/connection.js';
import { redisReadiness } from './redis/readiness.js';
import { createRedisRateLimitStore } from './stores/redis-rate-limit.js';
import type { RateLimitStore, BucketPlan } from './stores/rate-limit-store.js';
import { createMemoryRateLimitStore } from './stores/memory-rate-limit.js';
import { startRatesSimulator } from './downstream/rates-simulator.js';
import { rethrowAsListenError } from './http/edge/listen.js';
import { onlyMethods, type Route } from './http/edge/only-methods.js';
import { simulatorControl } from './http/edge/simulator-control.js';
import { createClientAddress, type ClientAddress } from './http/edge/client-address.js';
import { metricsAccess } from './http/edge/metrics-access.js';
import { metricsHandler } from './metrics/cluster.js';
import { createRatesProvider } from './downstream/rates-provider.js';
import { createRatesService } from './downstream/rates-service.js';
import { createIdempotency, type IdempotencyService } from './idempotency/index.js';
import { createQueryCache, type QueryCache } from './cache/index.js';
import { createRedisSharedLevel } from './cache/shared-level.js';
import { proceduresOf } from './cache/policy.js';
import { createMetrics, type Metrics } from './metrics/index.js';
import { appRouter } from './routers/app.js';
import { createAdmission, type Admission } from './admission/index.js';

/** Everything a request may use, built once per server. */
export interface Services {
  config: Config;
  log: Logger;
  /** The tables, on SQLite or PostgreSQL (DATABASE_URL decides). */
  database: Database;
  users: UsersRepo;
  payments: PaymentsRepo;
  cursors: CursorCodec;
  authGate: AuthGate;
  /** Who sent a request (TRUST_PROXY decides whether X-Forwarded-For is believed), and the group limits count it in. */
  clientAddress: ClientAddress;
  /** The API-key look-up alone: no failure counting, no response headers (fast paths peek with it). */
  authenticate: Authenticator;
  /** Per-key buckets; null when RATE_LIMIT_ENABLED=false. */
  limiter: RateLimitStore | null;
  bus: EventBus;
  idempotency: IdempotencyService;
  cache: QueryCache;
  /** Admission control in front of every route that works; null when ADMISSION_ENABLED=false. */
  admission: Admission | null;
  /** Prometheus metrics (`GET /metrics`); `metrics.idempotentReplays.inc()` counts a replay. */
  metrics: Metrics;
  rates: ReturnType<typeof createRatesService>;
  ratesProvider: ReturnType<typeof createRatesProvider>;
  /** The shared store's connections, when REDIS_URL is set. */
  redis: RedisConnections | null;
  /** Extra readiness checks for /readyz (Redis, when configured). */
  readiness: Record<string, () => Promise<{ status: string; required: boolean }>>;
  /** Extra routes outside /trpc (e.g. /metrics), each answering the methods it takes (see onlyMethods). */
  routes: Record<string, Route>;
  /** The built-in provider, when RATES_URL is unset. */
  simulator: Awaited<ReturnType<typeof startRatesSimulator>> | null;
  close(): Promise<void>;
}

export async function createServices(config: Config, log: Logger): Promise<Services> {
  const database = await connectDatabase(config.DATABASE_URL, {
    log,
    onMigrated: (target) => seedOnStart(target, config, log),
    pool: poolOptions(config),
  });
  const defaultPlan: BucketPlan = {
    name: 'default',
    burst: config.RATE_LIMIT_BURST,
    perSecond: config.RATE_LIMIT_PER_SECOND,
  };
  const development = config.NODE_ENV === 'development';
  const simulator = config.RATES_URL
    ? null
    : await startRatesSimulator({ port: config.RATES_SIMULATOR_PORT, host: '127.0.0.1', control: development }).catch(
        rethrowAsListenError('RATES_SIMULATOR_PORT', config.RATES_SIMULATOR_PORT, '127.0.0.1'),
      );
  const ratesProvider = createRatesProvider({
    url: config.RATES_URL ?? simulator?.url ?? '',
    timeoutMs: config.RATES_TIMEOUT_MS,
    breakerFailures: config.BREAKER_FAILURES,
    halfOpenAfterMs: config.BREAKER_HALF_OPEN_MS,
  });
  const rates = createRatesService({
    provider: ratesProvider,
    ttlMs: config.RATES_TTL_MS,
    staleMs: config.RATES_STALE_MS,
  });
  const redis: RedisConnections | null = config.REDIS_URL ? connectRedis(config.REDIS_URL, log) : null;
  const localLimiter = createMemoryRateLimitStore();
  // With Redis, every instance shares the buckets; the local store answers
  // when Redis is slow or gone, so a Redis outage never fails a request.
  const limiter: RateLimitStore = redis
    ? createRedisRateLimitStore({
        redis: redis.command,
        prefix: `${config.REDIS_PREFIX}rl:`,
        timeoutMs: config.REDIS_TIMEOUT_MS,
        fallback: localLimiter,
        onError: () => redis.markUnhealthy(),
      })
    : localLimiter;
  const bus: EventBus = redis
    ? createRedisBus({ command: redis.command, subscriber: redis.subscriber, channel: `${config.REDIS_PREFIX}events`, log })
    : createMemoryBus();
  const idempotency = createIdempotency({ database, config, log });
  const authenticate = createAuthenticator({ apiKeys: database.apiKeys, defaultPlan });
  const procedures = proceduresOf(appRouter);
  const clientAddress = createClientAddress(config.TRUST_PROXY);
  const shared = redis
    ? createRedisSharedLevel({
        redis: redis.command,
        prefix: config.REDIS_PREFIX,
        timeoutMs: config.REDIS_TIMEOUT_MS,
        ready: redis.ready,
        log,
      })
    : undefined;
  const cache = createQueryCache({ config, bus, log, procedures, ...(shared ? { shared } : {}) });
  const admission = config.ADMISSION_ENABLED
    ? createAdmission({ config, tenantOf: (authorization) => authenticate.peek(authorization)?.toString() })
    : null;
  const metrics = createMetrics({ procedures: Object.keys(procedures), cache, ratesProvider, admission });

  return {
    config,
    log,
    database,
    users: database.users,
    payments: database.payments,
    cursors: createCursorCodec(await database.cursorSecret(config.CURSOR_SECRET)),
    authGate: createAuthGate({
      authenticate,
      limiter,
      failurePlan: {
        name: 'auth-failures',
        burst: config.AUTH_FAILURE_BURST,
        perSecond: config.AUTH_FAILURE_PER_SECOND,
      },
      globalFailurePlan: {
        name: 'auth-failures-global',
        burst: config.AUTH_FAILURE_GLOBAL_BURST,
        perSecond: config.AUTH_FAILURE_GLOBAL_PER_SECOND,
      },
      addressOf: (req) => clientAddress.groupOf(clientAddress.of(req)),
    }),
    clientAddress,
    authenticate,
    limiter: config.RATE_LIMIT_ENABLED ? limiter : null,
    bus,
    idempotency,
    cache,
    admission,
    metrics,
    rates,
    ratesProvider,
    simulator,
    readiness: redis
      ? { redis: () => redisReadiness(redis, config.REDIS_TIMEOUT_MS) }
      : {},
    redis,
    routes: {
      '/metrics': metricsAccess(config, onlyMethods(['GET'], metricsHandler(metrics.registry, metrics.handler))),
      ...(development && simulator ? { '/simulator/mode': simulatorControl(simulator) } : {}),
    },
    async close() {
      admission?.close();
      await idempotency.close();
      await cache.close();
      await simulator?.close();
      await limiter.close?.();
      await bus.close?.();
      await redis?.close();
      await database.close();
    },
  };
}
