import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.js';
import { startServer, type RunningServer } from '../../server/app.js';
import { onPostgres } from './dialect.js';
import { createTestPostgres, type TestPostgres } from './postgres.js';

export interface TestServer extends RunningServer {
  dir: string;
  /** The SQLite file, or on PostgreSQL the database URL. */
  dbFile: string;
  /** On PostgreSQL (TEST_DIALECT=postgres): the server's own database, dropped on close. */
  postgres: TestPostgres | null;
  /** A raw HTTP call to a procedure: GET for queries (input in the query string), POST for mutations. */
  call(path: string, opts?: CallOptions): Promise<CallResult>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface CallOptions {
  method?: 'GET' | 'POST';
  input?: unknown;
  key?: string | null;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  body: { result?: { data?: unknown }; error?: { message: string; code: number; data: Record<string, unknown> } };
}

/**
 * A real server on 127.0.0.1:0 over a fresh database: a SQLite file in a
 * temp folder, or under TEST_DIALECT=postgres a PostgreSQL database made
 * from the migrated template.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'composure-test-'));
  const postgres = onPostgres && env.DATABASE_URL === undefined ? await createTestPostgres() : null;
  const dbFile = postgres?.url ?? join(dir, 'test.db');
  let server: RunningServer;
  try {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: dbFile,
      SEED_USERS: '50',
      LOG_LEVEL: 'silent',
      RATES_SIMULATOR_PORT: '0',
      ...env,
    });
    server = await startServer(config);
  } catch (err) {
    // A start that fails (a bad env in a test, a port taken) must not leave its folder or database behind.
    rmSync(dir, { recursive: true, force: true });
    await postgres?.drop();
    throw err;
  }
  const close = async () => {
    await server.close();
    await postgres?.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    ...server,
    dir,
    dbFile,
    postgres,
    close,
    [Symbol.asyncDispose]: close,
    call: (path, opts = {}) => call(server.url, path, opts),
  };
}

export async function call(baseUrl: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? 'demo-alice' : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let url = `${baseUrl}/trpc/${path}`;
  let body: string | undefined;
  if (method === 'GET') {
    if (opts.input !== undefined) url += `?input=${encodeURIComponent(JSON.stringify(opts.input))}`;
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.input ?? {});
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: CallResult['body'] = {};
  try {
    parsed = JSON.parse(text) as CallResult['body'];
  } catch {
    // Non-JSON answers (304, 413 from a proxy) keep an empty body.
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}
