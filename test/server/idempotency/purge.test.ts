import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { createIdempotency, type IdempotencyService } from '../../../server/idempotency/index.js';
import { tempDatabase, type TempDatabase } from '../../helpers/db.js';

const DAY = 86_400_000;
const now = Date.UTC(2026, 5, 1);
let db: TempDatabase;
let service: IdempotencyService | undefined;

beforeEach(async () => {
  db = await tempDatabase();
  db.sqlite.prepare("INSERT INTO tenants (id, name) VALUES (1, 'alice')").run();
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  vi.useRealTimers();
  await db[Symbol.asyncDispose]();
});

function start(intervalMs = 60_000, purgeBatchSize: number | null = 100): IdempotencyService {
  service = createIdempotency({
    database: db,
    config: { IDEMPOTENCY_TTL_MS: DAY, IDEMPOTENCY_LOCK_MS: 30_000, IDEMPOTENCY_PURGE_INTERVAL_MS: intervalMs },
    log: pino({ level: 'silent' }),
    now: () => now,
    ...(purgeBatchSize === null ? {} : { purgeBatchSize }),
  });
  return service;
}

function insertRows(count: number, at: { createdAt: number; lockedAt?: number; state?: 'done' | 'in_flight'; prefix: string }) {
  const insert = db.sqlite.prepare(
    `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, response_status, response_body, locked_at, created_at)
     VALUES (1, 'payments.create', ?, 'fp', ?, 200, '{}', ?, ?)`,
  );
  db.sqlite.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(`${at.prefix}-${i}`, at.state ?? 'done', at.lockedAt ?? at.createdAt, at.createdAt);
  })();
}

const keys = () =>
  (db.sqlite.prepare('SELECT key FROM idempotency_keys ORDER BY key').all() as Array<{ key: string }>).map((r) => r.key);

describe('idempotency purge', () => {
  it('deletes results older than the TTL in small batches and keeps younger ones', async () => {
    insertRows(250, { createdAt: now - DAY - 1, prefix: 'old' });
    insertRows(3, { createdAt: now - DAY + 1000, prefix: 'young' });
    const report = await start().purgeExpired();
    expect(report).toEqual({ deleted: 250, batches: 3 });
    expect(keys()).toEqual(['young-0', 'young-1', 'young-2']);
  });

  it('deletes 500 rows per statement by default', async () => {
    insertRows(1_001, { createdAt: now - DAY - 1, prefix: 'old' });
    // 500 + 500 + 1 (the server passes no size): a batch short of the size ends the run.
    expect(await start(60_000, null).purgeExpired()).toEqual({ deleted: 1_001, batches: 3 });
    insertRows(1_000, { createdAt: now - DAY - 1, prefix: 'again' });
    // 500 + 500 + an empty batch that finds nothing more.
    expect(await service!.purgeExpired()).toEqual({ deleted: 1_000, batches: 3 });
  });

  it('deletes an expired in_flight row an older version left once past the lock, but not one still inside it', async () => {
    insertRows(1, { createdAt: now - 2 * DAY, state: 'in_flight', prefix: 'abandoned' });
    insertRows(1, { createdAt: now - 2 * DAY, lockedAt: now - 1000, state: 'in_flight', prefix: 'held' });
    await start().purgeExpired();
    expect(keys()).toEqual(['held-0']);
  });

  it('runs by itself every IDEMPOTENCY_PURGE_INTERVAL_MS until closed', async () => {
    vi.useFakeTimers();
    const svc = start(1000);
    insertRows(5, { createdAt: now - DAY - 1, prefix: 'a' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(keys()).toEqual([]);
    await svc.close();
    insertRows(5, { createdAt: now - DAY - 1, prefix: 'b' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(keys()).toHaveLength(5);
  });
});
