import { execFile } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { usersPageSchema, createUserInputSchema } from '../../shared/schemas/users.js';
import { createPaymentInputSchema } from '../../shared/schemas/payments.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
type Json = Record<string, unknown>;

/** The value at a path of keys inside the document (undefined when absent). */
function dig(value: unknown, ...keys: string[]): unknown {
  let node = value;
  for (const key of keys) node = node !== null && typeof node === 'object' ? (node as Json)[key] : undefined;
  return node;
}
const record = (value: unknown): Json => (value !== null && typeof value === 'object' ? (value as Json) : {});

let server: TestServer;
let doc: Json;
beforeAll(async () => {
  server = await startTestServer();
  const res = await fetch(`${server.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  doc = (await res.json()) as Json;
});
afterAll(() => server.close());

const withoutDialect = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
};

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('documents the REST routes of the contract, each named after its procedure', () => {
    const operations = Object.entries(record(doc.paths)).flatMap(([path, item]) =>
      Object.entries(record(item)).map(([method, op]) => `${method.toUpperCase()} ${path} ${String(dig(op, 'operationId'))}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /api/users users.list',
        'GET /api/users/{id} users.byId',
        'POST /api/users users.create',
        'GET /api/payments payments.list',
        'POST /api/payments payments.create',
        'GET /api/stats stats.summary',
        'GET /api/rates rates.latest',
      ].sort(),
    );
  });

  it('takes every body schema from the zod schemas, not a copy', () => {
    const json = ['content', 'application/json', 'schema'];
    expect(dig(doc, 'paths', '/api/users', 'get', 'responses', '200', ...json)).toEqual(withoutDialect(usersPageSchema, 'output'));
    expect(dig(doc, 'paths', '/api/users', 'post', 'requestBody', ...json)).toEqual(withoutDialect(createUserInputSchema, 'input'));
    expect(dig(doc, 'paths', '/api/payments', 'post', 'requestBody', ...json)).toEqual(withoutDialect(createPaymentInputSchema, 'input'));
  });

  it('documents the query and path parameters with their types, and Idempotency-Key as required on payments', () => {
    const params = (path: string, method: string) =>
      Object.fromEntries(
        (dig(doc, 'paths', path, method, 'parameters') as Json[]).filter((p) => !p.$ref).map((p) => [`${String(p.in)}:${String(p.name)}`, p]),
      );
    expect(params('/api/users', 'get')).toMatchObject({ 'query:limit': { schema: { type: 'integer', maximum: 100 } }, 'query:cursor': {} });
    expect(params('/api/users', 'get')['query:direction']).toBeUndefined();
    expect(params('/api/payments', 'get')).toMatchObject({ 'query:limit': {}, 'query:cursor': {}, 'query:userId': { schema: { type: 'integer' } } });
    expect(params('/api/users/{id}', 'get')).toMatchObject({ 'path:id': { required: true, schema: { type: 'integer' } } });
    expect(params('/api/payments', 'post')['header:Idempotency-Key']).toMatchObject({ required: true });
    expect(params('/api/users', 'post')['header:Idempotency-Key']).toMatchObject({ required: false });
  });

  it("documents the contract's answers and headers", () => {
    const statuses = new Set<string>();
    for (const item of Object.values(record(doc.paths))) {
      for (const op of Object.values(record(item))) for (const s of Object.keys(record(dig(op, 'responses')))) statuses.add(s);
    }
    for (const status of ['200', '201', '304', '400', '401', '404', '409', '422', '429', '503']) expect(statuses).toContain(status);
    const text = JSON.stringify(doc);
    for (const name of ['Idempotency-Key', 'If-None-Match', 'ETag', 'Cache-Status', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Idempotent-Replayed']) {
      expect(text).toContain(`"${name}"`);
    }
    expect(dig(doc, 'components', 'securitySchemes', 'apiKey')).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(dig(doc, 'components', 'responses', 'TooManyRequests', 'description')).toContain('https://iana.org/assignments/http-problem-types#quota-exceeded');
  });
});

describe('/docs', () => {
  it('serves the reference page and its assets from this server, naming no other host', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(sources.length).toBeGreaterThan(2);
    for (const source of sources) {
      expect(source.startsWith('/docs/')).toBe(true);
      const asset = await fetch(`${server.url}${source}`);
      expect(asset.status, source).toBe(200);
      await asset.arrayBuffer();
    }
    const init = await (await fetch(`${server.url}/docs/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });

  it('sends the bundle gzipped to a client that takes gzip, and whole to one that does not', async () => {
    const get = (encoding: string | undefined) =>
      new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const req = request(`${server.url}/docs/swagger-ui-bundle.js`, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    const plain = await get(undefined);
    const gzipped = await get('gzip, deflate');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(gzipped.body).equals(plain.body)).toBe(true);
    expect((await get('gzip;q=0')).headers['content-encoding']).toBeUndefined();
  });

  it('answers an asset it does not have with 404', async () => {
    expect((await fetch(`${server.url}/docs/../package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/docs/nothing.js`)).status).toBe(404);
  });

  const CHROMIUM = '/usr/bin/chromium';
  if (!existsSync(CHROMIUM)) console.warn(`skipping the /docs rendering test: no Chromium at ${CHROMIUM}`);
  it.skipIf(!existsSync(CHROMIUM))('renders every route of the document in Chromium', async () => {
    // A profile of its own: with a shared one, a Chromium already running elsewhere would take the page instead.
    const profile = mkdtempSync(join(tmpdir(), 'composure-chromium-'));
    let stdout: string;
    try {
      ({ stdout } = await run(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          `--user-data-dir=${profile}`,
          '--virtual-time-budget=20000',
          '--dump-dom',
          `${server.url}/docs`,
        ],
        { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
      ));
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
    for (const path of Object.keys(record(doc.paths))) expect(stdout).toContain(`data-path="${path}"`);
    expect(stdout).toContain('Composure REST API');
  }, 90_000);
});
