import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { openDatabase } from '../../server/db/open.js';
import { sqliteApiKeysStatements } from '../../server/repos/sqlite/api-keys.js';
import { sqliteUsersStatements } from '../../server/repos/sqlite/users.js';
import { sqlitePaymentsStatements } from '../../server/repos/sqlite/payments.js';
import { userSchema, type User } from '../../shared/schemas/users.js';
import { paymentSchema, type CreatePaymentInput, type Payment } from '../../shared/schemas/payments.js';

/*
 * The work every peer server does, written once as a team on Hono, fastify
 * or oRPC would write it beside their framework, so that only the framework
 * differs between peers: an API key looked up by its SHA-256 (cached for
 * 5 s, as Composure does), a token bucket per key with the RateLimit
 * headers, the same prepared drizzle statements as Composure's repositories,
 * zod on the way out (the peers validate the input themselves, idiomatically).
 */

export interface Caller {
  tenantId: number;
  apiKeyId: number;
}

const BURST = Number(process.env.RATE_LIMIT_BURST ?? 100);
const PER_SECOND = Number(process.env.RATE_LIMIT_PER_SECOND ?? 20);
const POLICY = `"default";q=${BURST};w=${Math.max(1, Math.ceil(BURST / PER_SECOND))}`;
const BEARER = /^bearer +([\x21-\x7e]{1,512})\s*$/i;
// Fixed rates: the peers have no rates provider; the payment's JSON keeps its shape.
const RATES: Record<string, number> = { USD: 1, EUR: 0.92, GBP: 0.79, JPY: 151.2, CHF: 0.88 };

export function peerWork(file = process.env.DATABASE_URL ?? ':memory:') {
  const { sqlite, db } = openDatabase(file);
  const apiKeys = sqliteApiKeysStatements(db);
  const users = sqliteUsersStatements(db, db);
  const payments = sqlitePaymentsStatements(db, db);
  const keys = new LRUCache<string, { caller: Caller | null }>({ max: 10_000, ttl: 5000 });
  const buckets = new Map<number, { tokens: number; at: number }>();
  const findKey = sqlite.prepare<[number, string, string], { fingerprint: string; body: string }>(
    'SELECT fingerprint, response_body AS body FROM idempotency_keys WHERE tenant_id = ? AND procedure = ? AND key = ?',
  );
  const storeKey = sqlite.prepare<[number, string, string, string, string, number, number]>(
    `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, response_status, response_body, locked_at, created_at)
     VALUES (?, ?, ?, ?, 'done', 200, ?, ?, ?)`,
  );

  const createTx = sqlite.transaction(
    (caller: Caller, key: string, fingerprint: string, input: CreatePaymentInput): { body: string; replayed: boolean } | 'mismatch' | 'no-user' => {
      const used = findKey.get(caller.tenantId, 'payments.create', key);
      if (used) return used.fingerprint === fingerprint ? { body: used.body, replayed: true } : 'mismatch';
      if (!users.byId(caller.tenantId, input.userId)) return 'no-user';
      const row = payments.insert({ tenantId: caller.tenantId, ...input });
      const rate = RATES[row.currency];
      const payment: Payment = paymentSchema.parse({
        id: row.id,
        userId: row.userId,
        amountCents: row.amountCents,
        currency: row.currency,
        amountInBase: rate === undefined ? null : Math.round(row.amountCents / rate),
        createdAt: new Date(row.createdAt).toISOString(),
      });
      const body = JSON.stringify({ result: { data: payment } });
      storeKey.run(caller.tenantId, 'payments.create', key, fingerprint, body, Date.now(), Date.now());
      return { body, replayed: false };
    },
  );

  return {
    /** The caller of an `Authorization: Bearer <key>` header, or null. */
    authenticate(header: string | undefined): Caller | null {
      const token = header ? BEARER.exec(header)?.[1] : undefined;
      if (!token) return null;
      const hash = createHash('sha256').update(token).digest('hex');
      let hit = keys.get(hash);
      if (!hit) {
        const row = apiKeys.byHash(hash);
        hit = { caller: row ? { tenantId: row.tenantId, apiKeyId: row.id } : null };
        keys.set(hash, hit);
      }
      return hit.caller;
    },

    /** Takes a token; returns the RateLimit headers, and whether the call may go on. */
    limit(caller: Caller): { allowed: boolean; headers: Record<string, string> } {
      const now = Date.now();
      const bucket = buckets.get(caller.apiKeyId) ?? { tokens: BURST, at: now };
      bucket.tokens = Math.min(BURST, bucket.tokens + ((now - bucket.at) * PER_SECOND) / 1000);
      bucket.at = now;
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      buckets.set(caller.apiKeyId, bucket);
      const wait = allowed ? 0 : Math.ceil((1 - bucket.tokens) / PER_SECOND);
      const headers: Record<string, string> = {
        'ratelimit-policy': POLICY,
        ratelimit: `"default";r=${Math.floor(bucket.tokens)};t=${bucket.tokens >= BURST ? 0 : Math.max(1, wait)}`,
      };
      if (!allowed) headers['retry-after'] = String(Math.max(1, wait));
      return { allowed, headers };
    },

    /** The user, validated on the way out, or undefined. */
    userById(caller: Caller, id: number): User | undefined {
      const row = users.byId(caller.tenantId, id);
      if (!row) return undefined;
      return userSchema.parse({ id: row.id, name: row.name, email: row.email, createdAt: new Date(row.createdAt).toISOString() });
    },

    /**
     * A keyed create: in one transaction, the stored answer when the key was
     * used (or 'mismatch' for another body), else the payment and the key's
     * answer, two rows. 'no-user' when the user is not the tenant's.
     */
    createPayment(caller: Caller, key: string, rawBody: string, input: CreatePaymentInput) {
      const fingerprint = createHash('sha256').update(rawBody).digest('hex');
      return createTx.immediate(caller, key, fingerprint, input);
    },
  };
}
