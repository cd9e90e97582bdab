import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_SECOND: '100000' });
});
afterAll(() => server.close());

// Values a client might put where a number, a cursor or an id belongs.
const hostileValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '-1', '0', '1e999', '1e2', '0x10', 'NaN', 'Infinity', '9007199254740993', '%', '%E0%A4%A', '..', 'null', '[]', '{}', 'true'),
  fc.integer().map(String),
  fc.double().map(String),
);
const queryName = fc.constantFrom('limit', 'cursor', 'userId', 'id', 'base', 'direction', 'input');
const query = fc.array(fc.tuple(queryName, hostileValue), { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
const getPath = fc.oneof(
  fc.constantFrom('/api/users', '/api/payments', '/api/stats', '/api/rates', '/api', '/api/', '/api/users/'),
  hostileValue.map((v) => `/api/users/${encodeURIComponent(v)}`),
  fc.constantFrom('/api/users/%', '/api/users/%E0%A4%A', '/api/users/1/2', '/api//users'),
);
const body = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 60 }),
  fc.record({ userId: fc.oneof(fc.integer(), fc.string(), fc.constant(null)), amountCents: fc.oneof(fc.integer(), fc.double(), fc.string()), currency: hostileValue }).map((o) => JSON.stringify(o)),
  fc.record({ name: hostileValue, email: hostileValue }).map((o) => JSON.stringify(o)),
);

async function expectClearAnswer(res: Response): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBeLessThan(500);
  if (res.status >= 400) expect(res.headers.get('content-type')).toBe('application/problem+json');
  if (res.status >= 400) {
    const problem = JSON.parse(text) as { type: string; status: number; detail: string };
    expect(problem.status).toBe(res.status);
    expect(problem.type).toMatch(/^(tag:|https:)/);
    expect(text).not.toMatch(/ at \S+:\d+:\d+|node_modules|\/server\//);
  }
}

describe('hostile input on /api', () => {
  it('answers generated GETs with a 2xx, a 304 or a problem, never a 5xx or a stack trace', async () => {
    await fc.assert(
      fc.asyncProperty(getPath, query, async (path, q) => {
        const res = await fetch(`${server.url}${path}${q ? `?${q}` : ''}`, { headers: { authorization: 'Bearer demo-alice' } });
        await expectClearAnswer(res);
      }),
      { numRuns: 150 },
    );
  });

  it('answers generated POST bodies with a 2xx or a problem, never a 5xx or a stack trace', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/users', '/api/payments'), body, fc.boolean(), async (path, text, keyed) => {
        const headers: Record<string, string> = { authorization: 'Bearer demo-alice', 'content-type': 'application/json' };
        if (keyed) headers['idempotency-key'] = crypto.randomUUID();
        const res = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: text });
        await expectClearAnswer(res);
      }),
      { numRuns: 150 },
    );
  });
});
