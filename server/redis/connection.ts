import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { failFastRedisOptions } from '../stores/redis-rate-limit.js';

export interface RedisConnections {
  /** Commands (scripts, GET/SET, PUBLISH): fails fast while disconnected. */
  command: Redis;
  /** Subscriber mode for the invalidation bus; resubscribes by itself after a reconnect. */
  subscriber: Redis;
  /** True while both connections are ready and answered their last ping. */
  ready(): boolean;
  /** A command timed out or failed: report not ready until the next good ping. */
  markUnhealthy(): void;
  close(): Promise<void>;
}

const WATCH_INTERVAL_MS = 500;
const PING_TIMEOUT_MS = 1000;

/**
 * ioredis notices a dead peer only when TCP does; a Redis that accepts the
 * connection and never answers would leave us "connected" forever (its
 * connectTimeout ends at the TCP handshake). The watchdog pings, and forces
 * a reconnect when a ping or the ready check hangs.
 */
function watch(conn: Redis, onPong: () => void): () => void {
  let pending = false;
  let connectingSince = 0;
  const timer = setInterval(() => {
    if (conn.status === 'connect') {
      // TCP is up but the ready check has not answered.
      connectingSince ||= Date.now();
      if (Date.now() - connectingSince > PING_TIMEOUT_MS) {
        connectingSince = 0;
        conn.disconnect(true);
      }
      return;
    }
    connectingSince = 0;
    if (conn.status !== 'ready' || pending) return;
    pending = true;
    const deadline = setTimeout(() => conn.disconnect(true), PING_TIMEOUT_MS);
    conn.ping().then(
      () => {
        clearTimeout(deadline);
        pending = false;
        onPong();
      },
      () => {
        clearTimeout(deadline);
        pending = false;
      },
    );
  }, WATCH_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Two connections, as ioredis requires for pub/sub. Reconnection is capped
 * at one attempt a second so an outage costs little, and errors are logged
 * once per outage rather than once per attempt.
 */
export function connectRedis(url: string, log: Logger): RedisConnections {
  const retryStrategy = (attempt: number) => Math.min(1000, 50 * 2 ** attempt);
  const command = new Redis(url, { ...failFastRedisOptions, retryStrategy });
  const subscriber = new Redis(url, { retryStrategy, connectTimeout: 2_000 });
  let warned = false;
  let healthy = true;
  const lastPong = { command: Date.now(), subscriber: Date.now() };
  for (const [name, conn] of [['command', command], ['subscriber', subscriber]] as const) {
    conn.on('error', (err: Error) => {
      if (!warned) log.warn({ err: err.message, connection: name }, 'redis unavailable; serving from local state');
      warned = true;
    });
    conn.on('ready', () => {
      if (warned) log.info({ connection: name }, 'redis connection restored');
      warned = false;
      lastPong[name] = Date.now();
    });
  }
  const stops = [
    watch(command, () => {
      lastPong.command = Date.now();
      healthy = true;
    }),
    watch(subscriber, () => {
      lastPong.subscriber = Date.now();
    }),
  ];
  const fresh = (at: number) => Date.now() - at < WATCH_INTERVAL_MS + PING_TIMEOUT_MS * 2;
  return {
    command,
    subscriber,
    ready: () =>
      healthy &&
      command.status === 'ready' &&
      subscriber.status === 'ready' &&
      fresh(lastPong.command) &&
      fresh(lastPong.subscriber),
    markUnhealthy() {
      healthy = false;
    },
    async close() {
      for (const stop of stops) stop();
      await Promise.allSettled([command.quit(), subscriber.quit()]);
      command.disconnect();
      subscriber.disconnect();
    },
  };
}
