import pg from 'pg';
import { TRPCError } from '@trpc/server';
import { ERROR_REASONS } from '../../../shared/errors.js';
import { ApiError } from '../../errors.js';

export interface PoolOptions {
  /** Connections per instance (`DB_POOL_SIZE`). */
  size: number;
  /** Longest wait for a connection, and for one statement (`DB_TIMEOUT_MS`). */
  timeoutMs: number;
}

/**
 * The node-postgres pool: `connectionTimeoutMillis` bounds the wait for a
 * free or new connection (an exhausted pool, an unreachable server),
 * `query_timeout` bounds each statement on the client side (a server that
 * stopped answering), and `statement_timeout` lets the server cancel its
 * side of the same statement. Every path to the database ends within
 * `timeoutMs`, never hangs.
 */
export function createPool(url: string, opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.size,
    connectionTimeoutMillis: opts.timeoutMs,
    query_timeout: opts.timeoutMs,
    statement_timeout: opts.timeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'composure',
  });
  // An idle connection the server drops (restart, idle timeout) emits here;
  // the pool has already discarded it, and the next checkout opens another.
  pool.on('error', () => undefined);
  return pool;
}

/** When a 503 asks the client to come back (RFC 9110 §10.2.3, in whole seconds). */
export const UNAVAILABLE_RETRY_AFTER_MS = 1000;

// SQLSTATE classes and codes that say "the database, not the request": 08 connection
// exceptions, 53 insufficient resources, 57P0x shutdown and 57014 a cancelled (timed-out) statement.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0)|^57014$/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres raises these as plain Errors (pool and client timeouts, a dropped connection).
const UNAVAILABLE_MESSAGE = /timeout exceeded when trying to connect|Query read timeout|Connection terminated|not queryable|Client was closed|connection timeout/i;

/** The driver's error: drizzle wraps it (DrizzleQueryError) with the SQL in the message and the original as `cause`. */
export function driverError(err: unknown): Error | null {
  if (!(err instanceof Error)) return null;
  return err.cause instanceof Error ? err.cause : err;
}

/** The SQLSTATE (or errno code) of a failed query, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (driverError(err) as (Error & { code?: unknown }) | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `err` says the database cannot be reached or cannot take more work right now. */
export function isUnavailable(err: unknown): boolean {
  const cause = driverError(err);
  if (!cause) return false;
  const code = errorCode(err);
  if (code !== undefined && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
  return UNAVAILABLE_MESSAGE.test(cause.message);
}

/** The 503 an unreachable or saturated database becomes (Retry-After is added from `retryAfterMs`). */
export function unavailableError(cause: unknown): TRPCError {
  return new TRPCError({
    code: 'SERVICE_UNAVAILABLE',
    message: 'The database is unavailable; retry later.',
    cause: new ApiError({ reason: ERROR_REASONS.databaseUnavailable, retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS, message: String(cause) }),
  });
}

/** Rethrows a database outage as the 503, anything else unchanged. */
export function rethrow(err: unknown): never {
  throw isUnavailable(err) ? unavailableError(err) : err;
}

/** A checked-out connection: errors it emits while out of the pool are kept, not thrown at the process. */
export interface Session {
  readonly client: pg.PoolClient;
  /** Set once the connection failed (the server ended the session, the network broke). */
  readonly failure: Error | null;
  /** Returns the connection, or destroys it after a failure. Safe to call twice. */
  end(destroy?: boolean): void;
}

export async function checkout(pool: pg.Pool): Promise<Session> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    rethrow(err);
  }
  let failure: Error | null = null;
  let ended = false;
  // Without a listener, an 'error' on a checked-out client (the server
  // ending an idle transaction, a reset) would crash the process.
  const onError = (err: Error) => {
    failure = err;
  };
  client.on('error', onError);
  return {
    client,
    get failure() {
      return failure;
    },
    end(destroy = false) {
      if (ended) return;
      ended = true;
      client.off('error', onError);
      client.release(destroy || failure !== null ? (failure ?? true) : undefined);
    },
  };
}
