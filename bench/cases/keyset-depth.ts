import type pg from 'pg';
import type { Database } from '../../server/db/database.js';
import type { SqliteDatabase } from '../../server/db/sqlite/database.js';
import type { PostgresDatabase } from '../../server/db/postgres/database.js';
import { benchDatabase, onServer, openBench, vacuumAnalyze, type BenchDatabase, type Dialect } from '../support/dialects.js';
import { median } from '../support/load.js';
import { result, type BenchResult } from '../support/types.js';

const DEPTH = 1_000_000;
const PAGE = 50;

async function timePerCall(fn: () => unknown, iterations: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - started) / 1000 / iterations;
}

/** A million users in one tenant, in one statement (a couple of seconds), and the same page by OFFSET for comparison. */
async function fill(database: Database, target: BenchDatabase): Promise<(limit: number, offset: number) => Promise<unknown>> {
  if (database.dialect === 'sqlite') {
    const { sqlite } = database as SqliteDatabase;
    sqlite.prepare("INSERT INTO tenants (name) VALUES ('deep')").run();
    sqlite
      .prepare(
        `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
         INSERT INTO users (tenant_id, name, email, created_at) SELECT 1, 'user ' || x, 'u' || x || '@deep.example', x FROM n`,
      )
      .run(DEPTH + PAGE * 2);
    const offset = sqlite.prepare('SELECT * FROM users WHERE tenant_id = 1 ORDER BY id LIMIT ? OFFSET ?');
    return async (limit, skip) => offset.all(limit, skip);
  }
  const { pool } = database as PostgresDatabase;
  // On a connection of its own: the pool's statement timeout (DB_TIMEOUT_MS) is for requests, not a bulk load.
  await onServer(async (client) => {
    await client.query("INSERT INTO tenants (name, created_at) VALUES ('deep', 0)");
    await client.query(
      `INSERT INTO users (tenant_id, name, email, created_at)
       SELECT 1, 'user ' || x, 'u' || x || '@deep.example', x FROM generate_series(1, $1::int) AS x`,
      [DEPTH + PAGE * 2],
    );
  }, target.postgresName ?? undefined);
  // A named statement: parsed once per connection, as the repositories' own are.
  const query: pg.QueryConfig = { name: 'bench-offset-page', text: 'SELECT * FROM users WHERE tenant_id = 1 ORDER BY id LIMIT $1 OFFSET $2' };
  return async (limit, skip) => pool.query({ ...query, values: [limit, skip] });
}

/** A page of 50 at depth 1 000 000 against depth 0 on `dialect` (SQLite unless told): keyset (the product's query) with OFFSET beside it. */
export async function keysetDepth(runs: number, dialect: Dialect = 'sqlite'): Promise<BenchResult> {
  const target = await benchDatabase(dialect, 'keyset', 0);
  const database = await openBench(target.url);
  try {
    const offset = await fill(database, target);
    if (target.postgresName) await vacuumAnalyze(target.postgresName);
    const { users } = database;
    const shallow: number[] = [];
    const deep: number[] = [];
    const offShallow: number[] = [];
    const offDeep: number[] = [];
    for (let r = 0; r < runs; r++) {
      shallow.push(await timePerCall(() => users.page(1, 0, PAGE + 1), 2000));
      deep.push(await timePerCall(() => users.page(1, DEPTH, PAGE + 1), 2000));
      offShallow.push(await timePerCall(() => offset(PAGE + 1, 0), 200));
      offDeep.push(await timePerCall(() => offset(PAGE + 1, DEPTH), 5));
    }
    const a = { usPerPage: median(deep) };
    const b = { usPerPage: median(shallow) };
    return result({
      measures: `keyset page of ${PAGE} at depth ${DEPTH} vs depth 0 on ${dialect} (lower is better)`,
      ratio: a.usPerPage / b.usPerPage,
      target: 1.5,
      comparison: '<=',
      a,
      b,
      extra: { offsetRatio: median(offDeep) / median(offShallow), offsetDeepUs: median(offDeep), offsetShallowUs: median(offShallow) },
    });
  } finally {
    await database.close();
    await target.drop();
  }
}
