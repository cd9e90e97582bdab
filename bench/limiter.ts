/**
 * What one rate-limit decision costs: µs in memory, bytes per bucket with a
 * million keys, and Redis decisions per second at concurrency 50.
 *
 *   npx tsx --expose-gc bench/limiter.ts        (REDIS_URL set adds Redis)
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createMemoryRateLimitStore } from '../server/stores/memory-rate-limit.js';
import { createRedisRateLimitStore, failFastRedisOptions } from '../server/stores/redis-rate-limit.js';
import type { BucketPlan } from '../server/stores/rate-limit-store.js';
import { deleteKeys } from '../test/helpers/redis-keys.js';

const plan: BucketPlan = { burst: 100, perSecond: 20, name: 'default' };

export interface LimiterBenchResult {
  usPerDecision: number;
  bytesPerKey: number;
  redisDecisionsPerSec: number | null;
}

const gc = (globalThis as { gc?: () => void }).gc;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** 2M decisions over 100k keys, real clock; median of three runs after a warm-up. */
function memoryMicros(): number {
  const store = createMemoryRateLimitStore();
  const keys = Array.from({ length: 100_000 }, (_, i) => `key:${i}`);
  const decisions = 2_000_000;
  const run = (count: number): number => {
    let admitted = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      // A stride prime to the key count visits keys in a cache-unfriendly order.
      if (store.take(keys[(i * 7919) % keys.length] ?? 'k', plan).allowed) admitted++;
    }
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    if (admitted === 0) throw new Error('nothing admitted: the benchmark is broken');
    return elapsed / count;
  };
  run(200_000);
  return median([run(decisions), run(decisions), run(decisions)]);
}

function retainedBytes(): number {
  gc?.();
  const usage = process.memoryUsage();
  // The bucket arrays are Float64Arrays, whose memory is off the JS heap.
  return usage.heapUsed + usage.arrayBuffers;
}

/** A million distinct live buckets; key strings count, since only the store keeps them. */
function memoryBytesPerKey(): number {
  const keys = 1_000_000;
  const before = retainedBytes();
  // A frozen clock keeps every bucket refilling, so none is swept away.
  const store = createMemoryRateLimitStore({ now: () => 0 });
  for (let i = 0; i < keys; i++) store.take(`key:${i}`, plan);
  const after = retainedBytes();
  if (store.size !== keys) throw new Error(`expected ${keys} buckets, found ${store.size}`);
  return (after - before) / keys;
}

/** 50 concurrent callers for about 3 s against REDIS_URL; fallbacks are not counted. */
async function redisThroughput(url: string): Promise<number> {
  const redis = new Redis(url, failFastRedisOptions);
  redis.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    setTimeout(() => reject(new Error(`Redis at ${url} not ready within 2 s`)), 2_000).unref();
  });
  const prefix = `composure:bench:${process.pid}:${Date.now()}:`;
  let fallbacks = 0;
  const store = createRedisRateLimitStore({
    redis,
    prefix,
    fallback: createMemoryRateLimitStore(),
    onError: () => {
      fallbacks++;
    },
  });
  try {
    await store.take('warm-up', plan);
    let decisions = 0;
    const start = performance.now();
    const deadline = start + 3_000;
    const worker = async (id: number): Promise<void> => {
      for (let i = 0; performance.now() < deadline; i++) {
        await store.take(`key:${(id * 7919 + i) % 10_000}`, plan);
        decisions++;
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, id) => worker(id)));
    const seconds = (performance.now() - start) / 1000;
    return (decisions - fallbacks) / seconds;
  } finally {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
}

export async function runLimiterBench(): Promise<LimiterBenchResult> {
  if (!gc) console.warn('bench/limiter: run with --expose-gc for a meaningful bytes/key figure');
  const usPerDecision = memoryMicros();
  const bytesPerKey = memoryBytesPerKey();
  const url = process.env.REDIS_URL;
  const redisDecisionsPerSec = url ? await redisThroughput(url) : null;
  return { usPerDecision, bytesPerKey, redisDecisionsPerSec };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runLimiterBench();
  console.table({
    'memory decision (µs)': { value: result.usPerDecision.toFixed(3), target: '≈ 1 (issue: < 2)' },
    'memory per key, 1M keys (B)': { value: Math.round(result.bytesPerKey), target: '≤ 250' },
    'Redis decisions/s, concurrency 50': {
      value: result.redisDecisionsPerSec === null ? 'skipped: REDIS_URL unset' : Math.round(result.redisDecisionsPerSec),
      target: 'one round trip each',
    },
  });
}
