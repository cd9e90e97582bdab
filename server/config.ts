import { z } from 'zod';
import { corsOriginsSchema } from './http/cors.js';
import { compileTrust } from './http/edge/client-address.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number) => z.coerce.number().int().min(min);
// A comma-separated list; each TRUST_PROXY entry is checked as proxy-addr will read it.
const trustList = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== ''))
  .refine(
    (entries) => {
      try {
        compileTrust(entries);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'each entry must be an IP address, a CIDR range, or loopback, linklocal, uniquelocal' },
  );

// One schema for the whole environment: a bad setting fails at start with
// the variable's name, never later inside a request.
const envSchema = z.object({
  // Unset means production: a server started without thought must not leak stacks or keys (`npm run dev` sets development).
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: int(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().min(1).default('./data/dev.db'),
  // PostgreSQL only: connections per instance, and the longest wait for a connection or a statement.
  DB_POOL_SIZE: int(1).default(10),
  DB_TIMEOUT_MS: int(1).default(2000),
  // Unset: seed in development and tests only (see seedsDemoData); production seeds only on an explicit SEED=true.
  SEED: bool.optional(),
  SEED_USERS: int(0).max(10_000_000).default(1000),
  REDIS_URL: z.string().url().optional(),
  REDIS_PREFIX: z.string().min(1).default('composure:'),
  REDIS_TIMEOUT_MS: int(1).default(50),
  RATES_URL: z.string().url().optional(),
  // 0: any free port, so several instances on one machine never collide (the URL is printed at start).
  RATES_SIMULATOR_PORT: int(0).max(65535).default(0),
  RATES_TIMEOUT_MS: int(1).default(800),
  RATES_TTL_MS: int(0).default(30_000),
  RATES_STALE_MS: int(0).default(3_600_000),
  BREAKER_FAILURES: int(1).default(5),
  BREAKER_HALF_OPEN_MS: int(1).default(10_000),
  RATE_LIMIT_ENABLED: bool.default(true),
  RATE_LIMIT_BURST: int(1).default(100),
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(20),
  AUTH_FAILURE_BURST: int(1).default(10),
  AUTH_FAILURE_PER_SECOND: z.coerce.number().positive().default(1),
  // Failed authentications from all addresses together, so many addresses cannot guess at full speed either.
  AUTH_FAILURE_GLOBAL_BURST: int(1).default(1000),
  AUTH_FAILURE_GLOBAL_PER_SECOND: z.coerce.number().positive().default(100),
  // Proxies whose X-Forwarded-For is believed; none by default, so the socket's peer is the client.
  TRUST_PROXY: trustList,
  MAX_BATCH_SIZE: int(1).default(10),
  HEADERS_TIMEOUT_MS: int(1).default(10_000),
  REQUEST_TIMEOUT_MS: int(1).default(30_000),
  // Below the usual 1024 open-file limit, with room for the database, Redis and the simulator.
  MAX_CONNECTIONS: int(1).default(900),
  MAX_CONNECTIONS_PER_ADDRESS: int(1).default(256),
  // Unset: /metrics is open in development and a 404 elsewhere.
  METRICS_TOKEN: z.string().min(16).optional(),
  IDEMPOTENCY_TTL_MS: int(1).default(86_400_000),
  IDEMPOTENCY_LOCK_MS: int(1).default(30_000),
  IDEMPOTENCY_PURGE_INTERVAL_MS: int(1).default(60_000),
  CACHE_ENABLED: bool.default(true),
  CACHE_MAX_BYTES: int(0).default(64 * 1024 * 1024),
  CACHE_MAX_ENTRIES: int(1).default(50_000),
  // Answer cache hits in node:http before the tRPC adapter; off only to compare or to rule it out.
  CACHE_FAST_PATH: bool.default(true),
  // Call single GET queries, batches of queries and single JSON mutations in-process instead of through the adapter; off only to compare or to rule it out.
  LEAN_PATH: bool.default(true),
  CURSOR_SECRET: z.string().min(32).optional(),
  MAX_BODY_BYTES: int(1).default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: int(1).default(10_000),
  // Origins whose pages may call the API from a browser; unset: local pages in development, none otherwise.
  CORS_ORIGINS: corsOriginsSchema.optional(),
  // Admission control (server/admission): shed what cannot start in time, fairly, before any work.
  ADMISSION_ENABLED: bool.default(true),
  // A fixed concurrency limit; unset, the limit adapts between the two bounds below (Gradient2).
  ADMISSION_LIMIT: int(1).optional(),
  ADMISSION_MIN_LIMIT: int(1).default(16),
  ADMISSION_MAX_LIMIT: int(1).default(64),
  ADMISSION_QUEUE_SIZE: int(0).default(128),
  ADMISSION_QUEUE_TIMEOUT_MS: int(0).default(100),
  ADMISSION_RETRY_AFTER_S: int(1).default(1),
  // The longest Retry-After when refusals are spread (server/admission/retry-after-spread.ts); = ADMISSION_RETRY_AFTER_S: no spread.
  ADMISSION_RETRY_AFTER_MAX_S: int(1).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

// Node refuses a head timeout past the whole-request timeout (server.headersTimeout <= requestTimeout).
const checkedSchema = envSchema
  .refine((c) => c.HEADERS_TIMEOUT_MS <= c.REQUEST_TIMEOUT_MS, {
    message: 'must not exceed REQUEST_TIMEOUT_MS',
    path: ['HEADERS_TIMEOUT_MS'],
  })
  .refine((c) => c.ADMISSION_RETRY_AFTER_MAX_S >= c.ADMISSION_RETRY_AFTER_S, {
    message: 'must be at least ADMISSION_RETRY_AFTER_S',
    path: ['ADMISSION_RETRY_AFTER_MAX_S'],
  });

export type Env = z.input<typeof envSchema>;
export type Config = z.infer<typeof envSchema>;

/**
 * Whether an empty database gets the demo tenants and keys: always when
 * `SEED=true`, never when `SEED=false`, and when unset everywhere but in
 * production, so a public server never answers to the README's demo keys by accident.
 */
export function seedsDemoData(config: Pick<Config, 'SEED' | 'NODE_ENV'>): boolean {
  return config.SEED ?? config.NODE_ENV !== 'production';
}

/**
 * Parses the environment (or a partial one, in tests) into a complete config.
 * Throws with every offending variable named.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = checkedSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
