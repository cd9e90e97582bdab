import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { openSqlite } from '../../server/db/sqlite/database.js';
import { TMP } from '../support/fixtures.js';
import { median } from '../support/load.js';
import { result, type BenchResult } from '../support/types.js';

const DEPTH = 1_000_000;
const PAGE = 50;

async function timePerCall(fn: () => unknown, iterations: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - started) / 1000 / iterations;
}

/** A page of 50 at depth 1 000 000 against depth 0: keyset (the product's query) with OFFSET beside it. */
export async function keysetDepth(runs: number): Promise<BenchResult> {
  mkdirSync(TMP, { recursive: true });
  const file = join(TMP, 'keyset.db');
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  const database = await openSqlite(file, { log: pino({ level: 'silent' }) });
  const { sqlite, users } = database;
  sqlite.prepare("INSERT INTO tenants (name) VALUES ('deep')").run();
  // One statement: a million rows in a couple of seconds.
  sqlite
    .prepare(
      `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
       INSERT INTO users (tenant_id, name, email, created_at) SELECT 1, 'user ' || x, 'u' || x || '@deep.example', x FROM n`,
    )
    .run(DEPTH + PAGE * 2);
  const offset = sqlite.prepare('SELECT * FROM users WHERE tenant_id = 1 ORDER BY id LIMIT ? OFFSET ?');
  const shallow: number[] = [];
  const deep: number[] = [];
  const offShallow: number[] = [];
  const offDeep: number[] = [];
  for (let r = 0; r < runs; r++) {
    shallow.push(await timePerCall(() => users.page(1, 0, PAGE + 1), 2000));
    deep.push(await timePerCall(() => users.page(1, DEPTH, PAGE + 1), 2000));
    offShallow.push(await timePerCall(() => offset.all(PAGE + 1, 0), 200));
    offDeep.push(await timePerCall(() => offset.all(PAGE + 1, DEPTH), 5));
  }
  await database.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  const a = { usPerPage: median(deep) };
  const b = { usPerPage: median(shallow) };
  return result({
    measures: `keyset page of ${PAGE} at depth ${DEPTH} vs depth 0 (lower is better)`,
    ratio: a.usPerPage / b.usPerPage,
    target: 1.5,
    comparison: '<=',
    a,
    b,
    extra: { offsetRatio: median(offDeep) / median(offShallow), offsetDeepUs: median(offDeep), offsetShallowUs: median(offShallow) },
  });
}
