import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursorPayload, encodeCursorPayload } from '../../shared/cursor.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SEED_USERS: '120' });
});
afterAll(() => server.close());

describe('auth and tenants', () => {
  it('answers 401 without an API key', async () => {
    const res = await server.call('users.list', { key: null });
    expect(res.status).toBe(401);
    expect(res.body.error?.data.code).toBe('UNAUTHORIZED');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers 401 for an unknown key', async () => {
    const res = await server.call('users.list', { key: 'not-a-key' });
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/Unknown/);
  });

  it('shows each tenant only its own users', async () => {
    const alice = await server.call('users.list', { input: { limit: 100 } });
    const bob = await server.call('users.list', { input: { limit: 100 }, key: 'demo-bob' });
    const aliceEmails = (alice.body.result?.data as { data: Array<{ email: string }> }).data.map((u) => u.email);
    const bobEmails = (bob.body.result?.data as { data: Array<{ email: string }> }).data.map((u) => u.email);
    expect(aliceEmails.every((e) => e.endsWith('@alice.example'))).toBe(true);
    expect(bobEmails).toHaveLength(12);
    expect(bobEmails.every((e) => e.endsWith('@bob.example'))).toBe(true);
  });

  it("answers 404 for another tenant's user by id", async () => {
    const bobPage = await server.call('users.list', { input: { limit: 1 }, key: 'demo-bob' });
    const bobUser = (bobPage.body.result?.data as { data: Array<{ id: number }> }).data[0];
    const res = await server.call('users.byId', { input: { id: bobUser?.id } });
    expect(res.status).toBe(404);
    expect(res.body.error?.data.code).toBe('NOT_FOUND');
  });

  it("refuses a payment for another tenant's user", async () => {
    const bobPage = await server.call('users.list', { input: { limit: 1 }, key: 'demo-bob' });
    const bobUser = (bobPage.body.result?.data as { data: Array<{ id: number }> }).data[0];
    const res = await server.call('payments.create', {
      method: 'POST',
      input: { userId: bobUser?.id, amountCents: 100, currency: 'EUR' },
      headers: { 'idempotency-key': 'cross-tenant-1' },
    });
    expect(res.status).toBe(404);
  });
});

describe('validation', () => {
  it('answers 400 with the zod issues for bad input', async () => {
    const res = await server.call('users.list', { input: { limit: 1000 } });
    expect(res.status).toBe(400);
    expect(res.body.error?.data.code).toBe('BAD_REQUEST');
    const issues = res.body.error?.data.zodIssues as Array<{ path: string[] }>;
    expect(issues[0]?.path).toEqual(['limit']);
    expect(res.text).not.toMatch(/stack|at .*\.ts:\d+/);
  });

  it('answers 409 for a duplicate email within a tenant, and allows it in another', async () => {
    const input = { name: 'Dup', email: 'dup@example.com' };
    const first = await server.call('users.create', { method: 'POST', input });
    const again = await server.call('users.create', { method: 'POST', input });
    const bob = await server.call('users.create', { method: 'POST', input, key: 'demo-bob' });
    expect([first.status, again.status, bob.status]).toEqual([200, 409, 200]);
  });

  it('answers 404 for an unknown procedure and an unknown path', async () => {
    expect((await server.call('users.nope')).status).toBe(404);
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
  });

  it('answers 413 for a body over 1 MB', async () => {
    const res = await server.call('users.create', {
      method: 'POST',
      input: { name: 'x'.repeat(1_100_000), email: 'big@example.com' },
    });
    expect(res.status).toBe(413);
  });

  it('answers TRACE with 405 instead of failing inside the adapter', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/trpc/users.list`, { method: 'TRACE', headers: { authorization: 'Bearer demo-alice' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(405);
  });

  it('answers a wrong method with 405 and no stack', async () => {
    const res = await server.call('users.create', { method: 'GET', input: { name: 'a', email: 'a@b.co' } });
    expect(res.status).toBe(405);
    expect(res.text).not.toContain('stack');
  });
});

describe('cursor pagination over HTTP', () => {
  it('walks every row exactly once, reusing a cursor with another limit', async () => {
    const ids: number[] = [];
    let cursor: string | null = null;
    let limit = 7;
    for (let i = 0; i < 100; i++) {
      const res = await server.call('users.list', { input: { limit, cursor } });
      expect(res.status).toBe(200);
      const page = res.body.result?.data as { data: Array<{ id: number }>; nextCursor: string | null; hasMore: boolean };
      ids.push(...page.data.map((u) => u.id));
      expect(page.hasMore).toBe(page.nextCursor !== null);
      if (!page.hasMore) break;
      cursor = page.nextCursor;
      limit = limit === 7 ? 13 : 7;
    }
    const total = (await server.call('stats.summary')).body.result?.data as { users: number };
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(total.users);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('answers 400 for a cursor whose well-formed position was changed under the old signature', async () => {
    const first = await server.call('users.list', { input: { limit: 2 } });
    const cursor = (first.body.result?.data as { nextCursor: string }).nextCursor;
    const [payload, mac] = cursor.split('.') as [string, string];
    const position = decodeCursorPayload(payload);
    expect(position).not.toBeNull();
    // A valid payload, skipping ten rows ahead, with the MAC of the original.
    const forged = `${encodeCursorPayload({ ...position!, k: position!.k + 10 })}.${mac}`;
    const res = await server.call('users.list', { input: { limit: 2, cursor: forged } });
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/Invalid cursor: signature mismatch/);
    expect(res.body.error?.data.reason).toBe('invalid_cursor');
    // The untouched cursor still works: only the forgery was refused.
    expect((await server.call('users.list', { input: { limit: 2, cursor } })).status).toBe(200);
  });

  it('answers 400 for a cursor that is not even well formed', async () => {
    const first = await server.call('users.list', { input: { limit: 2 } });
    const cursor = (first.body.result?.data as { nextCursor: string }).nextCursor;
    const tampered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    const res = await server.call('users.list', { input: { limit: 2, cursor: tampered } });
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/Invalid cursor/);
  });

  it("answers 400 for a cursor made for other filters or another tenant", async () => {
    const users = await server.call('users.list', { input: { limit: 2 } });
    const usersCursor = (users.body.result?.data as { nextCursor: string }).nextCursor;
    const asPayments = await server.call('payments.list', { input: { limit: 2, cursor: usersCursor } });
    expect(asPayments.status).toBe(400);
    const byUser = await server.call('payments.list', { input: { limit: 1, userId: 1 } });
    const byUserCursor = (byUser.body.result?.data as { nextCursor: string }).nextCursor;
    const otherFilter = await server.call('payments.list', { input: { limit: 1, userId: 2, cursor: byUserCursor } });
    expect(otherFilter.status).toBe(400);
    const asBob = await server.call('users.list', { input: { limit: 2, cursor: usersCursor }, key: 'demo-bob' });
    expect(asBob.status).toBe(400);
  });

  it('filters payments by user', async () => {
    const res = await server.call('payments.list', { input: { limit: 100, userId: 3 } });
    const page = res.body.result?.data as { data: Array<{ userId: number; amountInBase: number | null }> };
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data.every((p) => p.userId === 3)).toBe(true);
  });
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { checks: { database: string }; breakers: { rates: string } };
    expect(body.checks.database).toBe('ok');
    expect(body.breakers.rates).toBe('closed');
  });
});
