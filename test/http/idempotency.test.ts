import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type CallResult, type TestServer } from '../helpers/server.js';

let server: TestServer;
let bobUserId: number;
beforeAll(async () => {
  server = await startTestServer();
  const [bob] = await server.services.database.query<{ id: number }>('SELECT id FROM users WHERE tenant_id = 2 ORDER BY id LIMIT 1');
  bobUserId = Number(bob?.id);
});
afterAll(() => server.close());

const payment = (overrides: Record<string, unknown> = {}) => ({ userId: 1, amountCents: 1999, currency: 'EUR', ...overrides });

function create(key: string | null, input: unknown, opts: { apiKey?: string; path?: string } = {}): Promise<CallResult> {
  return server.call(opts.path ?? 'payments.create', {
    method: 'POST',
    input,
    key: opts.apiKey,
    headers: key === null ? {} : { 'idempotency-key': key },
  });
}

const payments = async () => Number((await server.services.database.query<{ n: number }>('SELECT count(*) AS n FROM payments'))[0]?.n);
const storedKey = async (key: string, tenantId = 1) =>
  (
    await server.services.database.query<{ state: string; status: number | null }>(
      'SELECT state, response_status AS status FROM idempotency_keys WHERE tenant_id = ? AND key = ?',
      [tenantId, key],
    )
  )[0];

describe('replays', () => {
  it('replays the stored status and body byte for byte with Idempotent-Replayed: true', async () => {
    const before = await payments();
    const first = await create('replay-1', payment({ amountCents: 4242 }));
    const again = await create('replay-1', payment({ amountCents: 4242 }));
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(await payments()).toBe(before + 1);
  });

  it("accepts the draft's sf-string form as the same key as the bare token", async () => {
    const first = await create('replay-quoted', payment());
    const again = await create('"replay-quoted"', payment());
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
  });

  it('treats the same input with its keys in another order as the same request', async () => {
    const first = await create('replay-order', { userId: 2, amountCents: 300, currency: 'GBP' });
    const again = await create('replay-order', { currency: 'GBP', amountCents: 300, userId: 2 });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
  });

  it('stores a business error raised by the handler and replays it', async () => {
    const before = await payments();
    const first = await create('replay-404', payment({ userId: bobUserId }));
    const again = await create('replay-404', payment({ userId: bobUserId }));
    expect(first.status).toBe(404);
    expect(again.status).toBe(404);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(await payments()).toBe(before);
  });

  it('stores a duplicate-email 409 from users.create under an optional key and replays it', async () => {
    const input = { name: 'Ada', email: 'ada-dup@example.com' };
    expect((await create(null, input, { path: 'users.create' })).status).toBe(200);
    const first = await create('dup-user', input, { path: 'users.create' });
    const again = await create('dup-user', input, { path: 'users.create' });
    expect(first.status).toBe(409);
    expect(first.body.error?.data.reason).toBe('duplicate');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
  });

  it('still applies auth to a replay', async () => {
    await create('replay-auth', payment());
    const res = await create('replay-auth', payment(), { apiKey: 'not-a-key' });
    expect(res.status).toBe(401);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });

  it('lets a used key be used afresh once its result has been purged', async () => {
    const first = await create('replay-expired', payment({ amountCents: 777 }));
    await server.services.database.query('UPDATE idempotency_keys SET created_at = 0 WHERE key = ?', ['replay-expired']);
    expect((await server.services.idempotency.purgeExpired()).deleted).toBeGreaterThanOrEqual(1);
    const again = await create('replay-expired', payment({ amountCents: 777 }));
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.text).not.toBe(first.text);
  });
});

describe('mismatches and scoping', () => {
  it('answers 422 UNPROCESSABLE_CONTENT naming the key when it comes back with another input', async () => {
    const first = await create('mismatch-1', payment({ amountCents: 100 }));
    const before = await payments();
    const other = await create('mismatch-1', payment({ amountCents: 101 }));
    expect(other.status).toBe(422);
    expect(other.body.error?.data).toMatchObject({ code: 'UNPROCESSABLE_CONTENT', reason: 'idempotency_mismatch' });
    expect(other.body.error?.message).toContain('"mismatch-1"');
    expect(await payments()).toBe(before);
    // The original input still replays.
    expect((await create('mismatch-1', payment({ amountCents: 100 }))).text).toBe(first.text);
  });

  it("keeps bob's identical key string apart from alice's, and never shows him alice's answer", async () => {
    const alice = await create('shared-key', payment({ amountCents: 5000 }));
    const bob = await create('shared-key', payment({ userId: bobUserId, amountCents: 5000 }), { apiKey: 'demo-bob' });
    expect(bob.status).toBe(200);
    expect(bob.headers.get('idempotent-replayed')).toBeNull();
    expect(bob.text).not.toBe(alice.text);
    const bobAgain = await create('shared-key', payment({ userId: bobUserId, amountCents: 5000 }), { apiKey: 'demo-bob' });
    expect(bobAgain.text).toBe(bob.text);
    // Even alice's exact input under alice's key string is a new request for bob: alice's user is not his.
    const bobWithAliceInput = await create('shared-key-2', payment({ amountCents: 5000 }), { apiKey: 'demo-bob' });
    await create('shared-key-2', payment({ amountCents: 5000 }));
    expect(bobWithAliceInput.status).toBe(404);
  });

  it("never replays alice's stored answer to bob, even for the same key string and the same input", async () => {
    // Alice first, so a look-up that ignored the tenant would find her row and replay it.
    const input = payment({ amountCents: 6100 });
    const alice = await create('tenant-first', input);
    expect(alice.status).toBe(200);
    const bob = await create('tenant-first', input, { apiKey: 'demo-bob' });
    expect(bob.headers.get('idempotent-replayed')).toBeNull();
    // Alice's user is not bob's: his own first attempt is a 404, and it is stored as his answer.
    expect(bob.status).toBe(404);
    expect(bob.text).not.toBe(alice.text);
    expect(await storedKey('tenant-first', 2)).toEqual({ state: 'done', status: 404 });
    const bobAgain = await create('tenant-first', input, { apiKey: 'demo-bob' });
    expect(bobAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(bobAgain.text).toBe(bob.text);
  });
});

describe('what is not stored', () => {
  it('does not store a validation failure: the key stays free for a valid request', async () => {
    const bad = await create('invalid-first', payment({ amountCents: -5 }));
    expect(bad.status).toBe(400);
    expect(await storedKey('invalid-first')).toBeUndefined();
    const good = await create('invalid-first', payment());
    expect(good.status).toBe(200);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it('does not store a body that is not JSON', async () => {
    const res = await fetch(`${server.url}/trpc/payments.create`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-alice', 'content-type': 'application/json', 'idempotency-key': 'not-json' },
      body: '{"userId": 1,',
    });
    expect(res.status).toBe(400);
    expect(await storedKey('not-json')).toBeUndefined();
  });

  it('answers a deeply nested input with 400, not a stack overflow', async () => {
    const depth = 100_000;
    const res = await fetch(`${server.url}/trpc/payments.create`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-alice', 'content-type': 'application/json', 'idempotency-key': 'deep-1' },
      body: `${'['.repeat(depth)}${']'.repeat(depth)}`,
    });
    expect(res.status).toBe(400);
    expect(await storedKey('deep-1')).toBeUndefined();
  });

  it('writes no payment when storing the key fails: the effect and the key commit in one transaction', async () => {
    const { database } = server.services;
    const before = await payments();
    // The key's row is written last; a trigger failing it must take the payment down with it.
    if (database.dialect === 'postgres') {
      await database.query("CREATE FUNCTION fail_key_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'key store failed'; END $$");
      await database.query('CREATE TRIGGER fail_key_insert BEFORE INSERT ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION fail_key_insert()');
    } else {
      await database.query(
        "CREATE TRIGGER fail_key_insert BEFORE INSERT ON idempotency_keys BEGIN SELECT RAISE(ABORT, 'key store failed'); END",
      );
    }
    let failed: CallResult;
    try {
      failed = await create('key-store-fails', payment({ amountCents: 4711 }));
    } finally {
      await database.query(database.dialect === 'postgres' ? 'DROP TRIGGER fail_key_insert ON idempotency_keys' : 'DROP TRIGGER fail_key_insert');
    }
    expect(failed.status).toBe(500);
    expect(await payments()).toBe(before);
    expect(await storedKey('key-store-fails')).toBeUndefined();
    const retry = await create('key-store-fails', payment({ amountCents: 4711 }));
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await payments()).toBe(before + 1);
  });

  it('rolls the effect back and frees the key after an unexpected error', async () => {
    const store = server.services.idempotency;
    const commit = store.commit;
    const before = await payments();
    // The row is written, then the handler fails inside the same transaction.
    store.commit = (claim, effect, encode) =>
      commit(claim, async (tx) => {
        await effect(tx);
        throw new Error('disk on fire');
      }, encode);
    let failed: CallResult;
    try {
      failed = await create('unexpected-1', payment({ amountCents: 31337 }));
    } finally {
      store.commit = commit;
    }
    expect(failed.status).toBe(500);
    expect(failed.text).not.toContain('disk on fire');
    expect(await payments()).toBe(before);
    expect(await storedKey('unexpected-1')).toBeUndefined();
    const retry = await create('unexpected-1', payment({ amountCents: 31337 }));
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await payments()).toBe(before + 1);
  });
});

describe('the header', () => {
  it('is required on payments.create: 400 without it', async () => {
    const before = await payments();
    const res = await create(null, payment());
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/requires an Idempotency-Key/);
    expect(await payments()).toBe(before);
  });

  it('answers 400 for a key of 256 characters, a non-ASCII key or a malformed sf-string', async () => {
    expect((await create('k'.repeat(255), payment())).status).toBe(200);
    for (const key of ['k'.repeat(256), 'café', '"unterminated']) {
      const res = await create(key, payment());
      expect(res.status, key).toBe(400);
      expect(res.body.error?.message).toMatch(/Idempotency-Key/);
    }
  });

  it('answers 400 for two Idempotency-Key headers on one request', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/trpc/payments.create`, {
        method: 'POST',
        headers: [
          'authorization', 'Bearer demo-alice',
          'content-type', 'application/json',
          'idempotency-key', 'twice-a',
          'idempotency-key', 'twice-b',
        ],
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify(payment()));
    });
    expect(status).toBe(400);
  });
});

describe('batches', () => {
  it('answers 400 to a batch of two mutations under one key, and writes nothing', async () => {
    const before = await payments();
    const res = await create('batch-2', { 0: payment(), 1: payment({ amountCents: 2 }) }, { path: 'payments.create,payments.create?batch=1' });
    expect(res.status).toBe(400);
    const items = JSON.parse(res.text) as Array<{ error: { message: string } }>;
    expect(items).toHaveLength(2);
    expect(items[0]?.error.message).toMatch(/batch of 2/);
    expect(await payments()).toBe(before);
  });

  it('runs a batch of one keyed mutation and replays it as a batch, or unbatched', async () => {
    const first = await create('batch-1', { 0: payment({ amountCents: 808 }) }, { path: 'payments.create?batch=1' });
    expect(first.status).toBe(200);
    expect(first.text.startsWith('[{"result":')).toBe(true);
    const again = await create('batch-1', { 0: payment({ amountCents: 808 }) }, { path: 'payments.create?batch=1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    const single = await create('batch-1', payment({ amountCents: 808 }));
    expect(single.headers.get('idempotent-replayed')).toBe('true');
    expect(single.text).toBe(first.text.slice(1, -1));
  });
});

describe('bodies the replay path reads', () => {
  it('hands a chunked body over the size limit back to tRPC, which answers 413', async () => {
    await create('too-large', payment());
    const big = new TextEncoder().encode(JSON.stringify({ ...payment(), pad: 'x'.repeat(1_100_000) }));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 64 * 1024) controller.enqueue(big.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    const res = await fetch(`${server.url}/trpc/payments.create`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-alice', 'content-type': 'application/json', 'idempotency-key': 'too-large' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });
});
