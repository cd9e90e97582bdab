import type { RedisConnections } from './connection.js';

export interface RedisReadiness {
  /** `ok`; `slow` when a PING takes longer than the requests' own Redis budget; `degraded` when not connected. */
  status: 'ok' | 'slow' | 'degraded';
  required: true;
}

/**
 * The /readyz check for Redis. Connected is not enough: a Redis that
 * answers, but slower than REDIS_TIMEOUT_MS, makes every request fall back
 * to local state, so the instance is not whole and must say so. One PING
 * within that same budget decides.
 */
export async function redisReadiness(redis: RedisConnections, timeoutMs: number): Promise<RedisReadiness> {
  if (!redis.ready()) return { status: 'degraded', required: true };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const pong = redis.command.ping().then(
    () => 'pong' as const,
    () => 'failed' as const,
  );
  const first = await Promise.race([pong, late]);
  clearTimeout(timer);
  if (first === 'pong') return { status: 'ok', required: true };
  return { status: first === 'late' ? 'slow' : 'degraded', required: true };
}
