import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AMOUNT_CENTS } from '../../shared/schemas/money.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const UNLIMITED = { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_SECOND: '10000' };
let seq = 0;

function createPayment(server: TestServer, input: unknown) {
  return server.call('payments.create', { method: 'POST', input, headers: { 'idempotency-key': `numbers-${process.pid}-${seq++}` } });
}

async function tenantOf(server: TestServer, name: string): Promise<number> {
  return Number((await server.services.database.query<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [name]))[0]?.id);
}

/** Rows as a version without the business maximum could have written them: `count` copies in one statement. */
async function insertLegacyPayments(server: TestServer, tenant: string, amountCents: number, currency: string, count: number): Promise<void> {
  const tenantId = await tenantOf(server, tenant);
  const [user] = await server.services.database.query<{ id: number }>('SELECT id FROM users WHERE tenant_id = ? LIMIT 1', [tenantId]);
  await server.services.database.query(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO payments (tenant_id, user_id, amount_cents, currency, created_at) SELECT ?, ?, ?, ?, ? FROM n`,
    [count, tenantId, Number(user?.id), amountCents, currency, Date.now()],
  );
}

describe('amounts, currencies and totals', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...UNLIMITED, CACHE_ENABLED: 'false' });
  });
  afterAll(() => server.close());

  it('accepts amountCents up to the business maximum of 1e11 and refuses one cent more with a 400', async () => {
    expect((await createPayment(server, { userId: 1, amountCents: MAX_AMOUNT_CENTS, currency: 'EUR' })).status).toBe(200);
    const above = await createPayment(server, { userId: 1, amountCents: MAX_AMOUNT_CENTS + 1, currency: 'EUR' });
    expect(above.status).toBe(400);
    expect(above.body.error?.data.zodIssues).toEqual([expect.objectContaining({ path: ['amountCents'] })]);
    expect((await createPayment(server, { userId: 1, amountCents: Number.MAX_SAFE_INTEGER, currency: 'EUR' })).status).toBe(400);
  });

  it('refuses a currency that is not an ISO 4217 code in use with a 400, and stores nothing', async () => {
    const countPayments = () => server.services.database.query('SELECT count(*) AS n FROM payments');
    const before = await countPayments();
    for (const currency of ['XYZ', 'XTS', 'eur', 'EURO', '']) {
      const res = await createPayment(server, { userId: 1, amountCents: 100, currency });
      expect(res.status, currency).toBe(400);
      expect(res.body.error?.data.zodIssues).toEqual([expect.objectContaining({ path: ['currency'] })]);
    }
    expect(await countPayments()).toEqual(before);
    for (const currency of ['USD', 'JPY', 'CHF', 'AED', 'XOF']) {
      expect((await createPayment(server, { userId: 1, amountCents: 100, currency })).status, currency).toBe(200);
    }
  });

  it('totals two payments of 2^53−1 written before the maximum existed exactly, as a string of digits, instead of a 500', async () => {
    await insertLegacyPayments(server, 'bob', Number.MAX_SAFE_INTEGER, 'SEK', 2);
    const res = await server.call('stats.summary', { input: {}, key: 'demo-bob' });
    expect(res.status).toBe(200);
    const totals = (res.body.result?.data as { totalsByCurrency: Record<string, unknown> }).totalsByCurrency;
    expect(totals.SEK).toBe((2n * BigInt(Number.MAX_SAFE_INTEGER)).toString());
    // Small totals stay numbers.
    expect(Object.values(totals).filter((t) => typeof t === 'number').length).toBeGreaterThan(0);
  });

  it('keeps a total exact past 2^63 cents, where SQLite’s own SUM would overflow', async () => {
    await insertLegacyPayments(server, 'bob', Number.MAX_SAFE_INTEGER, 'NOK', 1100);
    const res = await server.call('stats.summary', { input: {}, key: 'demo-bob' });
    expect(res.status).toBe(200);
    const totals = (res.body.result?.data as { totalsByCurrency: Record<string, unknown> }).totalsByCurrency;
    expect(BigInt(totals.NOK as string)).toBe(1100n * BigInt(Number.MAX_SAFE_INTEGER));
    expect(1100n * BigInt(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(2n ** 63n);
  });

  it('never answers a 500 to a valid-looking payment, nor to the stats after it', async () => {
    const currencies = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'KWD', 'BHD', 'AED', 'XOF'];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: MAX_AMOUNT_CENTS }), fc.constantFrom(...currencies), async (amountCents, currency) => {
        const res = await createPayment(server, { userId: 2, amountCents, currency });
        expect(res.status).toBe(200);
        expect((await server.call('stats.summary', { input: {} })).status).toBe(200);
      }),
      { numRuns: 40 },
    );
  });
});

describe('a provider rate that would make amountInBase inexact', () => {
  let provider: Server;
  let server: TestServer;
  beforeAll(async () => {
    provider = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ base: 'USD', rates: { EUR: 1e-12, GBP: 0.79 }, asOf: new Date().toISOString() }));
    });
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    const { port } = provider.address() as AddressInfo;
    server = await startTestServer({ ...UNLIMITED, RATES_URL: `http://127.0.0.1:${port}/rates` });
  });
  afterAll(async () => {
    await server.close();
    await new Promise((resolve) => provider.close(resolve));
  });

  it('gives amountInBase null for that payment instead of a 500, and converts the others', async () => {
    const eur = await createPayment(server, { userId: 1, amountCents: MAX_AMOUNT_CENTS, currency: 'EUR' });
    expect(eur.status).toBe(200);
    expect(eur.body.result?.data).toMatchObject({ amountCents: MAX_AMOUNT_CENTS, currency: 'EUR', amountInBase: null });
    const gbp = await createPayment(server, { userId: 1, amountCents: MAX_AMOUNT_CENTS, currency: 'GBP' });
    expect(gbp.body.result?.data).toMatchObject({ amountInBase: Math.round(MAX_AMOUNT_CENTS / 0.79) });
    expect((await server.call('payments.list', { input: { userId: 1, limit: 100 } })).status).toBe(200);
  });
});
