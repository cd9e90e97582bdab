import type { Redis, RedisOptions } from 'ioredis';
import type { BucketPlan, RateLimitDecision, RateLimitStore } from './rate-limit-store.js';
import { TOKEN_EPSILON, assertValidTake } from './rate-limit-store.js';

export interface RedisRateLimitStoreOptions {
  /**
   * A command connection (not one in subscriber mode), best built with
   * `failFastRedisOptions`. The store defines a script on it and never
   * closes it: the caller owns it.
   */
  redis: Redis;
  /** Prepended to every key, e.g. `composure:rl:`, so deployments can share one Redis. */
  prefix: string;
  /**
   * How long to wait for Redis before answering from `fallback`.
   * @default 50
   */
  timeoutMs?: number;
  /** Answers while Redis is unreachable, slow or failing: the local bucket. */
  fallback: RateLimitStore;
  /** Told of each command error and timeout (not of each take while disconnected). */
  onError?: (err: unknown) => void;
}

export interface RedisRateLimitStore extends RateLimitStore {
  /** Waits for pending decisions (at most `timeoutMs`); the Redis client stays open. */
  close(): Promise<void>;
}

/**
 * ioredis options for a connection that must fail fast. Without
 * `enableOfflineQueue: false` commands issued while disconnected wait in a
 * queue until reconnection (ioredis README, "Offline Queue"); without
 * `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false` a
 * decision already answered from the fallback would be replayed on
 * reconnect and take a second token.
 */
export const failFastRedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  connectTimeout: 2_000,
} as const satisfies RedisOptions;

export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
  constructor(timeoutMs: number) {
    super(`Redis did not answer the rate-limit script within ${timeoutMs} ms`);
  }
}

const COMMAND = 'composureTakeTokens';

/*
 * The bucket of memory-rate-limit.ts, as one script so that a read, refill
 * and write cannot interleave with another instance's. Time is Redis's
 * (TIME), so instances with skewed clocks agree. State: a hash {t = tokens,
 * u = updated ms}, expiring when the bucket would be full again, since a
 * missing bucket reads as full. Returns {allowed, remaining, retryAfterMs,
 * resetMs}, all integers (a Lua number reply is truncated to an integer).
 */
const TAKE_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local burst = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2]) / 1000
local cost = tonumber(ARGV[3])
local eps = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local level = burst
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local stored, updated = tonumber(state[1]), tonumber(state[2])
if stored and updated then
  local elapsed = now - updated
  if elapsed < 0 then elapsed = 0 end
  level = stored + elapsed * perMs
  if level > burst then level = burst end
end

local function msUntil(from, target)
  local goal = target - eps
  if from >= goal then return 0 end
  local m = math.ceil((goal - from) / perMs)
  if from + m * perMs < goal then m = m + 1
  elseif m > 1 and from + (m - 1) * perMs >= goal then m = m - 1 end
  return m
end

local allowed, retry = 0, 0
if cost <= burst and level >= cost - eps then
  allowed = 1
  level = level - cost
  if level < 0 then level = 0 end
elseif cost > burst then
  retry = math.ceil(burst * 1000 / tonumber(ARGV[2]))
else
  retry = math.max(1, msUntil(level, cost))
end

local reset = msUntil(level, burst)
if reset == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', level), 'u', now)
  redis.call('PEXPIRE', KEYS[1], reset)
end
return {allowed, math.floor(level + eps), retry, reset}
`;

type TakeCommand = (key: string, plan: BucketPlan, cost: number) => Promise<unknown>;

function defineTakeCommand(redis: Redis): TakeCommand {
  // defineCommand sends EVALSHA and falls back to EVAL once on NOSCRIPT.
  redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: TAKE_LUA });
  const command: unknown = Reflect.get(redis, COMMAND);
  if (typeof command !== 'function') throw new Error(`ioredis did not define ${COMMAND}`);
  return (key, plan, cost) => {
    const reply: unknown = Reflect.apply(command, redis, [key, plan.burst, plan.perSecond, cost, TOKEN_EPSILON]);
    return Promise.resolve(reply);
  };
}

function toDecision(reply: unknown, plan: BucketPlan): RateLimitDecision {
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((n) => typeof n === 'number')) {
    throw new TypeError(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
  }
  const [allowed, remaining, retryAfterMs, resetMs] = reply as [number, number, number, number];
  return { allowed: allowed === 1, remaining, retryAfterMs, resetMs, limit: plan.burst };
}

/**
 * Shares buckets between instances through Redis, one round trip per
 * decision. Never throws for Redis's sake and never waits longer than
 * `timeoutMs`: when Redis is disconnected, slow or failing, `fallback`
 * answers (a local bucket, so a key is limited per instance meanwhile).
 * A decision that timed out may still land in Redis later; limits then
 * err on the strict side by one token, never the lax one.
 */
export function createRedisRateLimitStore(opts: RedisRateLimitStoreOptions): RedisRateLimitStore {
  const { redis, prefix, fallback } = opts;
  const timeoutMs = opts.timeoutMs ?? 50;
  const onError = opts.onError ?? (() => {});
  if (!(timeoutMs > 0 && timeoutMs < Infinity)) {
    throw new RangeError(`timeoutMs must be a positive finite number, got ${timeoutMs}`);
  }
  const command = defineTakeCommand(redis);
  const inFlight = new Set<Promise<RateLimitDecision>>();

  function fromRedis(key: string, plan: BucketPlan, cost: number): Promise<RateLimitDecision> {
    return new Promise<RateLimitDecision>((resolve, reject) => {
      let settled = false;
      const useFallback = (err: unknown): void => {
        settled = true;
        try {
          onError(err);
        } catch {
          // A failing logger must not leave the request hanging.
        }
        try {
          resolve(fallback.take(key, plan, cost));
        } catch (fallbackErr) {
          reject(fallbackErr);
        }
      };
      const timer = setTimeout(() => useFallback(new RedisTimeoutError(timeoutMs)), timeoutMs);
      command(prefix + key, plan, cost).then(
        (reply) => {
          if (settled) return;
          clearTimeout(timer);
          try {
            settled = true;
            resolve(toDecision(reply, plan));
          } catch (err) {
            useFallback(err);
          }
        },
        (err: unknown) => {
          if (settled) return;
          clearTimeout(timer);
          useFallback(err);
        },
      );
    });
  }

  return {
    take(key, plan, cost = 1) {
      assertValidTake(plan, cost);
      if (redis.status !== 'ready') {
        // A lazyConnect client connects on its first command, which this
        // branch never sends: start it here.
        if (redis.status === 'wait') redis.connect().catch(() => {});
        // While disconnected, skip the round trip (and its timer) entirely.
        return fallback.take(key, plan, cost);
      }
      const decision = fromRedis(key, plan, cost);
      inFlight.add(decision);
      void decision.finally(() => inFlight.delete(decision)).catch(() => {});
      return decision;
    },
    async close() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
