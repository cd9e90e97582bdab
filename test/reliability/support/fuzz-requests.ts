import fc from 'fast-check';

/**
 * fast-check arbitraries for the fuzz suite: one request each, tagged with
 * its family so the tally shows what reached which status, and with the
 * status the contract fixes where it fixes one (a foreign cursor is a 400,
 * a valid page is a 200, …).
 */

export type FuzzRequest =
  | {
      kind: 'http';
      family: string;
      method: string;
      path: string;
      headers: Headers;
      body?: string;
      /** The status DESIGN.md fixes for this request, when it fixes one. */
      expect?: number;
    }
  | { kind: 'raw'; family: 'raw'; bytes: string };

/** Real cursors fetched before fuzzing, to be replayed where they do not belong. */
export interface FuzzContext {
  aliceUsers: string;
  alicePayments: string;
  /** A payments.list cursor bound to `{ userId }`. */
  alicePaymentsOfUser: { cursor: string; userId: number };
  bobUsers: string;
  /** Users 1..seedUsers exist for alice. */
  seedUsers: number;
}

const QUERIES = ['users.list', 'users.byId', 'payments.list', 'stats.summary', 'rates.latest'] as const;
const MUTATIONS = ['users.create', 'payments.create'] as const;
const PROCEDURES = [...QUERIES, ...MUTATIONS];
const isMutation = (procedure: string) => (MUTATIONS as readonly string[]).includes(procedure);

const ALICE = { authorization: 'Bearer demo-alice' };
const JSON_BODY = { 'content-type': 'application/json' };

const chars = (from: number, to: number) => fc.integer({ min: from, max: to }).map((c) => String.fromCharCode(c));
/** What node:http lets through in a header value: tab, printable ASCII, and latin-1 (sent as raw bytes). */
const headerChar = fc.oneof({ arbitrary: chars(0x20, 0x7e), weight: 8 }, fc.constant('\t'), chars(0x80, 0xff));
const headerValue = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
/** What node:http lets through in a request target. */
const pathChar = chars(0x21, 0x7e);
const base64urlChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');

const query = (procedure: string, inputText?: string) =>
  `/trpc/${procedure}${inputText === undefined ? '' : `?input=${encodeURIComponent(inputText)}`}`;

/** Values that stress a validator: huge, negative, fractional, of the wrong type, prototype names. */
const wildValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1, 100, 101, 1e6, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, 1.5, 'USD', 'usd', '', '1', null, true, []),
  fc.string({ maxLength: 40 }),
);
const wildKey = fc.oneof(
  fc.constantFrom('limit', 'cursor', 'userId', 'id', 'amountCents', 'currency', 'base', 'name', 'email', 'direction', '__proto__', 'constructor', 'toString'),
  fc.string({ maxLength: 10 }),
);
const wildObject = fc.dictionary(wildKey, wildValue, { maxKeys: 6 });

/** Nesting that a recursive walk (canonical JSON, fingerprints, cache keys) could overflow the stack on. */
const deepNesting = (maxDepth: number) =>
  fc.tuple(fc.integer({ min: 100, max: maxDepth }), fc.constantFrom('array', 'object')).map(([depth, shape]) =>
    shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
  );

/** Text for an input: often JSON, sometimes not, sometimes absurdly nested. */
const inputText = (maxDepth: number) =>
  fc.oneof(
    { arbitrary: wildObject.map((v) => JSON.stringify(v)), weight: 6 },
    { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 3 },
    { arbitrary: fc.string({ maxLength: 60 }), weight: 2 },
    { arbitrary: deepNesting(maxDepth), weight: 1 },
    fc.constantFrom('', '{', '{"limit":', 'null', 'undefined', 'NaN', '{"__proto__":{"limit":1}}', '{"constructor":{"prototype":{}}}', '"\\ud800"', '\u0000'),
  );

type Headers = Record<string, string | string[]>;

const authHeader: fc.Arbitrary<Headers> = fc.oneof(
  { arbitrary: fc.constant(ALICE), weight: 6 },
  { arbitrary: fc.constant({ authorization: 'Bearer demo-bob' }), weight: 2 },
  fc.constant({}),
  fc.constantFrom('Bearer', 'Bearer ', 'bearer demo-alice', 'BEARER demo-alice', 'Bearer  demo-alice', 'Bearer demo-alice ', 'Basic ZGVtbzpkZW1v', 'Bearer demo-alice, Bearer demo-bob', `Bearer ${'a'.repeat(8000)}`).map((v) => ({ authorization: v })),
  headerValue(80).map((v) => ({ authorization: `Bearer ${v}` })),
  fc.constant<Headers>({ authorization: ['Bearer demo-alice', 'Bearer demo-bob'] }),
);

const idempotencyHeader: fc.Arbitrary<Headers> = fc.oneof(
  { arbitrary: fc.uuid().map((k) => ({ 'idempotency-key': k })), weight: 6 },
  fc.constant({}),
  // One key for many different inputs: the contract's 422.
  fc.constant({ 'idempotency-key': 'fuzz-shared-key' }),
  fc.constantFrom('', ' ', '"', '""', '"quoted-key"', '"a";p=1', 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(4000)).map((k) => ({ 'idempotency-key': k })),
  headerValue(300).map((k) => ({ 'idempotency-key': k })),
  fc.tuple(fc.uuid(), fc.uuid()).map((ks) => ({ 'idempotency-key': ks })),
);

const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '*/*', ''),
    'if-none-match': fc.oneof(fc.constantFrom('*', '"abc"', 'W/"x"', '"a", "b"', ''), headerValue(40)),
    accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', ''),
    'trpc-accept': fc.constantFrom('application/jsonl', 'application/json', 'nonsense'),
    'content-encoding': fc.constantFrom('gzip', 'br', 'identity'),
    'x-forwarded-for': fc.oneof(fc.ipV4(), headerValue(30)),
    'x-request-id': headerValue(200),
    'x-fuzz': headerValue(200),
  },
  { requiredKeys: [] },
);

const foreignCursors = (ctx: FuzzContext) => {
  const tamper = (cursor: string, where: 'payload' | 'mac') =>
    fc.tuple(fc.nat(), base64urlChar).map(([at, c]) => {
      const dot = cursor.indexOf('.');
      // The MAC's last base64url character carries padding bits too, so only
      // characters before it are sure to change the bytes.
      const [start, end] = where === 'payload' ? [0, dot] : [dot + 1, cursor.length - 1];
      const i = start + (at % Math.max(1, end - start));
      const swapped = c === cursor[i] ? (c === 'A' ? 'B' : 'A') : c;
      return cursor.slice(0, i) + swapped + cursor.slice(i + 1);
    });
  const forged = fc.tuple(fc.nat(), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(
    ([k, mac]) => `${Buffer.from(JSON.stringify({ v: 1, s: 'AAAAAAAAAAAAAAAA', k })).toString('base64url')}.${Buffer.from(mac).toString('base64url')}`,
  );
  type Case = { procedure: string; input: Record<string, unknown>; expect: number; key?: string };
  const page = (limit: number) => ({ limit });
  return fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: ctx.seedUsers })).chain(([limit, otherUser]) => {
    const userId = otherUser === ctx.alicePaymentsOfUser.userId ? otherUser + 1 : otherUser;
    const cases: Array<fc.Arbitrary<Case>> = [
      // A cursor may be reused with another limit: still a 200.
      fc.constant({ procedure: 'users.list', input: { ...page(limit), cursor: ctx.aliceUsers }, expect: 200 }),
      fc.constant({ procedure: 'payments.list', input: { ...page(limit), cursor: ctx.alicePaymentsOfUser.cursor, userId: ctx.alicePaymentsOfUser.userId }, expect: 200 }),
      fc.constant({ procedure: 'users.list', input: { ...page(limit), cursor: null }, expect: 200 }),
      // Another tenant's cursor, another procedure's, another filter's.
      fc.constant({ procedure: 'users.list', input: { ...page(limit), cursor: ctx.bobUsers }, expect: 400 }),
      fc.constant({ procedure: 'users.list', input: { ...page(limit), cursor: ctx.aliceUsers }, expect: 400, key: 'demo-bob' }),
      fc.constant({ procedure: 'users.list', input: { ...page(limit), cursor: ctx.alicePayments }, expect: 400 }),
      fc.constant({ procedure: 'payments.list', input: { ...page(limit), cursor: ctx.aliceUsers }, expect: 400 }),
      fc.constant({ procedure: 'payments.list', input: { ...page(limit), cursor: ctx.alicePaymentsOfUser.cursor }, expect: 400 }),
      fc.constant({ procedure: 'payments.list', input: { ...page(limit), cursor: ctx.alicePaymentsOfUser.cursor, userId }, expect: 400 }),
      fc.constant({ procedure: 'payments.list', input: { ...page(limit), cursor: ctx.alicePayments, userId }, expect: 400 }),
      // Tampered, forged, malformed, mistyped.
      tamper(ctx.aliceUsers, 'payload').map((cursor) => ({ procedure: 'users.list', input: { ...page(limit), cursor }, expect: 400 })),
      tamper(ctx.aliceUsers, 'mac').map((cursor) => ({ procedure: 'users.list', input: { ...page(limit), cursor }, expect: 400 })),
      forged.map((cursor) => ({ procedure: 'payments.list', input: { ...page(limit), cursor }, expect: 400 })),
      fc.string({ minLength: 1, maxLength: 600 }).map((cursor) => ({ procedure: 'users.list', input: { ...page(limit), cursor }, expect: 400 })),
      fc.constantFrom('.', '..', 'a.b', 'a.b.c', `${ctx.aliceUsers}.x`, ctx.aliceUsers.split('.')[0] ?? '', `${ctx.aliceUsers}.`).map((cursor) => ({ procedure: 'users.list', input: { ...page(limit), cursor }, expect: 400 })),
      fc.constantFrom<unknown>(0, 1, true, {}, [], [ctx.aliceUsers], { k: 1 }).map((cursor) => ({ procedure: 'payments.list', input: { ...page(limit), cursor }, expect: 400 })),
    ];
    return fc.oneof(...cases);
  }).map((c): FuzzRequest => ({
    kind: 'http',
    family: 'cursor',
    method: 'GET',
    path: query(c.procedure, JSON.stringify(c.input)),
    headers: { authorization: `Bearer ${c.key ?? 'demo-alice'}` },
    expect: c.expect,
  }));
};

/** limit: the contract's 1..100 integers are a 200, anything else a 400. */
const limits = fc
  .tuple(fc.constantFrom('users.list', 'payments.list'), fc.oneof(fc.integer({ min: -5, max: 200 }), wildValue))
  .map(([procedure, limit]): FuzzRequest => {
    const text = JSON.stringify({ limit });
    const sent: unknown = (JSON.parse(text) as { limit?: unknown }).limit;
    const valid = sent === undefined || (typeof sent === 'number' && Number.isInteger(sent) && sent >= 1 && sent <= 100);
    return { kind: 'http', family: 'limit', method: 'GET', path: query(procedure, text), headers: ALICE, expect: valid ? 200 : 400 };
  });

const validCalls = (ctx: FuzzContext) =>
  fc.oneof(
    fc.integer({ min: 1, max: 100 }).map((limit) => ({ path: query('users.list', JSON.stringify({ limit })), method: 'GET', body: undefined as string | undefined, extra: {} })),
    fc.integer({ min: 1, max: ctx.seedUsers }).map((id) => ({ path: query('users.byId', JSON.stringify({ id })), method: 'GET', body: undefined, extra: {} })),
    fc.constant({ path: query('stats.summary'), method: 'GET', body: undefined, extra: {} }),
    fc.constant({ path: query('rates.latest', '{"base":"USD"}'), method: 'GET', body: undefined, extra: {} }),
    fc.tuple(fc.uuid(), fc.integer({ min: 1, max: ctx.seedUsers }), fc.integer({ min: 1, max: 10_000_000 }), fc.constantFrom('USD', 'EUR', 'JPY')).map(
      ([key, userId, amountCents, currency]) => ({
        path: '/trpc/payments.create',
        method: 'POST',
        body: JSON.stringify({ userId, amountCents, currency }),
        extra: { ...JSON_BODY, 'idempotency-key': key },
      }),
    ),
  ).map((c): FuzzRequest => ({ kind: 'http', family: 'valid', method: c.method, path: c.path, headers: { ...ALICE, ...c.extra }, body: c.body, expect: 200 }));

/** Right procedure and method, garbage input, a valid key: what reaches zod and the middleware. */
const garbageInput = fc.tuple(fc.constantFrom(...PROCEDURES), inputText(8000), fc.uuid()).map(([procedure, text, key]): FuzzRequest =>
  isMutation(procedure)
    ? { kind: 'http', family: 'input', method: 'POST', path: `/trpc/${procedure}`, headers: { ...ALICE, ...JSON_BODY, 'idempotency-key': key }, body: text }
    : // Brackets are legal in a request target: unencoded, deep nesting fits under the header size limit.
      { kind: 'http', family: 'input', method: 'GET', path: `/trpc/${procedure}?input=${text.replace(/[^\[\]{}"a:1]/gu, (c) => encodeURIComponent(c))}`, headers: ALICE },
);

/** Deep nesting in a body: the recursive fingerprint of payments.create. */
const deepBodies = fc.tuple(deepNesting(30_000), fc.uuid()).map(([text, key]): FuzzRequest => ({
  kind: 'http',
  family: 'deep-body',
  method: 'POST',
  path: '/trpc/payments.create',
  headers: { ...ALICE, ...JSON_BODY, 'idempotency-key': key },
  body: text,
}));

const badHeaders = fc
  .tuple(fc.constantFrom(...PROCEDURES), authHeader, idempotencyHeader, extraHeaders, wildObject, fc.nat(19).map((n) => n === 0))
  .map(([procedure, auth, idem, extra, input, bigHeader]): FuzzRequest => {
    const headers: Headers = { ...auth, ...idem, ...extra };
    // Past node's 16 KB header limit: the server's own 431.
    if (bigHeader) headers['x-big'] = 'b'.repeat(17_000);
    return isMutation(procedure)
      ? { kind: 'http', family: 'headers', method: 'POST', path: `/trpc/${procedure}`, headers, body: JSON.stringify(input) }
      : { kind: 'http', family: 'headers', method: 'GET', path: query(procedure, JSON.stringify(input)), headers };
  });

const MAX_BODY_BYTES = 65_536;
export const FUZZ_MAX_BODY_BYTES = String(MAX_BODY_BYTES);

const oversized = fc
  .tuple(fc.constantFrom(...MUTATIONS), fc.integer({ min: MAX_BODY_BYTES + 1, max: 4 * MAX_BODY_BYTES }), fc.boolean(), fc.uuid())
  .map(([procedure, size, json, key]): FuzzRequest => ({
    kind: 'http',
    family: 'oversized',
    method: 'POST',
    path: `/trpc/${procedure}`,
    headers: { ...ALICE, ...JSON_BODY, 'idempotency-key': key },
    body: json ? JSON.stringify({ name: 'n'.repeat(size), email: 'a@b.example' }) : 'x'.repeat(size),
    expect: 413,
  }));

const wrongMethods = fc
  .tuple(fc.constantFrom(...PROCEDURES, '', 'users', 'users.list,payments.list'), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE'), authHeader, fc.option(wildObject))
  .filter(([procedure, method]) => (isMutation(procedure) ? method !== 'POST' : method !== 'GET'))
  .map(([procedure, method, auth, input]): FuzzRequest => ({
    kind: 'http',
    family: 'method',
    method,
    path: `/trpc/${procedure}`,
    headers: { ...auth, ...JSON_BODY },
    body: input === null ? undefined : JSON.stringify(input),
  }));

const unknownPaths = fc
  .tuple(
    fc.oneof(
      fc.constantFrom('/', '/trpc', '/trpc/', '//trpc/users.list', '/TRPC/users.list', '/trpc/users.list/', '/trpc/users.list/x', '/trpc/%2e%2e/healthz', '/trpc/users.list%00', '/trpc/__proto__', '/trpc/constructor', '/trpc/users.__proto__', '/trpc/users.constructor', '/trpc/toString', '/trpc/users.list.call', '/trpc/payments.create.apply', '/healthz/', '/healthz?x=1', '/readyz', '/metrics', '/../etc/passwd', '/trpc/users.list?batch=1', '/trpc/users.list?input=%ZZ', '/trpc/users.list?input=%'),
      fc.string({ unit: pathChar, maxLength: 60 }).map((p) => `/${p}`),
      fc.string({ unit: pathChar, maxLength: 60 }).map((p) => `/trpc/${p}`),
    ),
    fc.constantFrom('GET', 'POST', 'DELETE'),
    authHeader,
  )
  .map(([path, method, auth]): FuzzRequest => ({ kind: 'http', family: 'path', method, path, headers: auth, body: method === 'POST' ? '{}' : undefined }));

/** Batches: queries with wild inputs, too many calls, and several mutations under one key (a 400). */
const batches = (ctx: FuzzContext) =>
  fc.oneof(
    fc.tuple(fc.array(fc.constantFrom(...QUERIES), { minLength: 1, maxLength: 8 }), fc.array(fc.option(wildObject), { maxLength: 9 })).map(([procedures, inputs]): FuzzRequest => {
      const input = Object.fromEntries(inputs.map((v, i) => [String(i), v]));
      return { kind: 'http', family: 'batch', method: 'GET', path: `/trpc/${procedures.join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, headers: ALICE };
    }),
    fc.tuple(fc.integer({ min: 20, max: 300 }), fc.constantFrom('1', 'true', '0', '')).map(([n, batch]): FuzzRequest => ({
      kind: 'http',
      family: 'batch',
      method: 'GET',
      path: `/trpc/${Array.from({ length: n }, () => 'users.byId').join(',')}?batch=${batch}&input=${encodeURIComponent(JSON.stringify({ 0: { id: 1 } }))}`,
      headers: ALICE,
    })),
    fc.tuple(fc.integer({ min: 2, max: 5 }), fc.uuid(), fc.integer({ min: 1, max: ctx.seedUsers })).map(([n, key, userId]): FuzzRequest => ({
      kind: 'http',
      family: 'batch-keyed-mutations',
      method: 'POST',
      path: `/trpc/${Array.from({ length: n }, () => 'payments.create').join(',')}?batch=1`,
      headers: { ...ALICE, ...JSON_BODY, 'idempotency-key': key },
      body: JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), { userId, amountCents: 100 + i, currency: 'EUR' }]))),
      expect: 400,
    })),
    fc.tuple(fc.uuid(), wildValue).map(([key, body]): FuzzRequest => ({
      kind: 'http',
      family: 'batch',
      method: 'POST',
      path: '/trpc/payments.create,users.list?batch=1',
      headers: { ...ALICE, ...JSON_BODY, 'idempotency-key': key },
      body: JSON.stringify(body),
    })),
  );

/** What node:http would refuse to send: bad request lines, control bytes, conflicting lengths, broken chunking. */
const raw = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'G@T', '', 'GET GET'),
    fc.oneof(fc.constantFrom('/trpc/users.list', '/healthz', '/trpc/users list', '/trpc/users.list?input={"limit":1}', '/\u00e9', '*', 'http://x/healthz', ''), fc.string({ maxLength: 30 })),
    fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', '', 'http/1.1'),
    fc.array(
      fc.oneof(
        fc.constantFrom('Host: x', 'Authorization: Bearer demo-alice', 'Content-Length: abc', 'Content-Length: -1', 'Content-Length: 2', 'Content-Length: 1\r\nContent-Length: 2', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked, identity', 'Idempotency-Key: a\u0000b', 'X: \u0001\u007f', 'No colon here', ' folded: line', 'Bad Name: 1', ': empty name', `X-Long: ${'l'.repeat(20_000)}`),
        fc.string({ maxLength: 40 }),
      ),
      { maxLength: 5 },
    ),
    fc.oneof(fc.constant(''), fc.constantFrom('zz\r\nabc\r\n0\r\n\r\n', '5\r\nab', '{"limit":1}', '0\r\n\r\nGET / HTTP/1.1\r\n\r\n'), fc.string({ maxLength: 40 })),
  )
  .map(([method, target, version, headers, body]): FuzzRequest => ({
    kind: 'raw',
    family: 'raw',
    // Connection: close so the server ends the exchange by itself.
    bytes: `${method} ${target} ${version}\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n${body}`,
  }));

export function fuzzRequestArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { arbitrary: validCalls(ctx), weight: 12 },
    { arbitrary: garbageInput, weight: 20 },
    { arbitrary: foreignCursors(ctx), weight: 14 },
    { arbitrary: limits, weight: 8 },
    { arbitrary: badHeaders, weight: 16 },
    { arbitrary: batches(ctx), weight: 8 },
    { arbitrary: wrongMethods, weight: 7 },
    { arbitrary: unknownPaths, weight: 7 },
    { arbitrary: oversized, weight: 2 },
    { arbitrary: deepBodies, weight: 2 },
    { arbitrary: raw, weight: 3 },
  );
}
