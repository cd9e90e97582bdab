import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  createClient,
  isConflictError,
  isIdempotencyConflict,
  isNotFoundError,
  isRateLimitError,
  isTRPCClientError,
  isUnavailableError,
  isValidationError,
  RateLimitError,
  TRPCClientError,
} from '../../client/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startProxy, trpcError, type LoopbackProxy } from './helpers/proxy.js';

let server: TestServer;
let proxy: LoopbackProxy;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  proxy = await startProxy(server.url);
});
afterEach(() => proxy.close());

const catchError = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('typed errors', () => {
  it('isValidationError narrows to the zod issues of a 400', async () => {
    const client = createClient({ url: server.url, apiKey: 'demo-alice' });
    const error = await catchError(client.users.create.mutate({ name: '', email: 'not-an-email' }));
    expect(isValidationError(error)).toBe(true);
    if (!isValidationError(error)) return;
    expect(error.status).toBe(400);
    expect(error.issues.map((i) => i.path.join('.')).sort()).toEqual(['email', 'name']);
    // Still the tRPC error, with the typed server data.
    expect(isTRPCClientError(error)).toBe(true);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error.data?.code).toBe('BAD_REQUEST');
  });

  it('isNotFoundError recognises a 404', async () => {
    const client = createClient({ url: server.url, apiKey: 'demo-alice' });
    const error = await catchError(client.users.byId.query({ id: 9_999_999 }));
    expect(isNotFoundError(error)).toBe(true);
    expect(isValidationError(error)).toBe(false);
  });

  it('isConflictError recognises the 409 of a duplicate email', async () => {
    const client = createClient({ url: server.url, apiKey: 'demo-alice' });
    const email = `dup-${crypto.randomUUID()}@example.com`;
    await client.users.create.mutate({ name: 'Ada', email });
    const error = await catchError(client.users.create.mutate({ name: 'Ada again', email }));
    expect(isConflictError(error)).toBe(true);
    expect(error).toBeInstanceOf(ConflictError);
    if (isConflictError(error)) expect([error.status, error.reason, error.name]).toEqual([409, 'duplicate', 'ConflictError']);
    expect(isIdempotencyConflict(error)).toBe(false);
    expect(isValidationError(error)).toBe(false);
  });

  it('leaves an in-flight idempotency 409 to isIdempotencyConflict, not isConflictError', async () => {
    proxy.handle = () => ({ status: 409, headers: { 'retry-after': '1' }, body: trpcError(409, 'CONFLICT', 'in flight', { reason: 'idempotency_in_flight' }) });
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { maxAttempts: 1 } });
    const error = await catchError(client.payments.create.mutate({ userId: 1, amountCents: 500, currency: 'EUR' }));
    expect(isIdempotencyConflict(error)).toBe(true);
    expect(isConflictError(error)).toBe(false);
  });

  it('isRateLimitError gives retryAfterMs once the retries are spent', async () => {
    proxy.handle = () => ({
      status: 429,
      headers: { 'retry-after': '2' },
      body: trpcError(429, 'TOO_MANY_REQUESTS', 'Rate limit exceeded', { reason: 'rate_limited', retryAfterMs: 1_250 }),
    });
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { maxAttempts: 1 } });
    const error = await catchError(client.users.list.query({}));
    expect(isRateLimitError(error)).toBe(true);
    expect(error).toBeInstanceOf(RateLimitError);
    if (isRateLimitError(error)) {
      expect(error.retryAfterMs).toBe(2_000);
      expect(error.reason).toBe('rate_limited');
      expect(error.name).toBe('RateLimitError');
    }
  });

  it('isIdempotencyConflict tells an in-flight key from a reused one', async () => {
    let answer = 0;
    proxy.handle = () =>
      answer++ === 0
        ? { status: 409, headers: { 'retry-after': '1' }, body: trpcError(409, 'CONFLICT', 'in flight', { reason: 'idempotency_in_flight' }) }
        : { status: 422, body: trpcError(422, 'UNPROCESSABLE_CONTENT', 'key reused', { reason: 'idempotency_mismatch' }) };
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { maxAttempts: 1 } });
    const input = { userId: 1, amountCents: 500, currency: 'EUR' };
    const inFlight = await catchError(client.payments.create.mutate(input));
    const mismatch = await catchError(client.payments.create.mutate(input));
    expect(isIdempotencyConflict(inFlight) && [inFlight.kind, inFlight.retryAfterMs]).toEqual(['in_flight', 1000]);
    expect(isIdempotencyConflict(mismatch) && mismatch.kind).toBe('mismatch');
  });

  it('a reused key with another input is a mismatch from the real server', async () => {
    const client = createClient({ url: server.url, apiKey: 'demo-alice' });
    const idempotencyKey = `reuse-${crypto.randomUUID()}`;
    await client.payments.create.mutate({ userId: 1, amountCents: 700, currency: 'EUR' }, { context: { idempotencyKey } });
    const error = await catchError(client.payments.create.mutate({ userId: 1, amountCents: 701, currency: 'EUR' }, { context: { idempotencyKey } }));
    expect(isIdempotencyConflict(error) && error.kind).toBe('mismatch');
  });

  it('isUnavailableError recognises a 503', async () => {
    proxy.handle = () => ({ status: 503, body: trpcError(503, 'SERVICE_UNAVAILABLE', 'down', { reason: 'upstream_unavailable', retryAfterMs: 300 }) });
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { maxAttempts: 1 } });
    const error = await catchError(client.rates.latest.query({ base: 'USD' }));
    expect(isUnavailableError(error) && [error.reason, error.retryAfterMs]).toEqual(['upstream_unavailable', 300]);
  });

  it('leaves other errors as plain TRPCClientErrors', async () => {
    const client = createClient({ url: server.url, apiKey: 'not-a-key' });
    const error = await catchError(client.users.list.query({}));
    expect(isTRPCClientError(error)).toBe(true);
    expect((error as Error).name).toBe('TRPCClientError');
    for (const guard of [isRateLimitError, isValidationError, isNotFoundError, isUnavailableError, isIdempotencyConflict, isConflictError]) {
      expect(guard(error)).toBe(false);
    }
  });
});
