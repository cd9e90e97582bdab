import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  readonly index: number;
  readonly method: string;
  /** Path and query, e.g. `/trpc/users.list?input=...`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** performance.now() when the request was read. */
  readonly receivedAt: number;
}

/** What the proxy did with it, filled in as it happens. */
export interface ProxyLogEntry extends ProxiedRequest {
  action: 'forward' | 'drop' | 'synthetic';
  status?: number;
  /** performance.now() when the answer (or the drop) went out. */
  answeredAt?: number;
}

/** A canned answer, written by the proxy without calling the server. */
export interface SyntheticAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/**
 * - `'forward'`: pass to the server and back.
 * - `'drop-after-forward'`: pass to the server, read its whole answer (so it has committed), then cut the client's connection.
 * - a {@link SyntheticAnswer}: answer without the server.
 */
export type ProxyAction = 'forward' | 'drop-after-forward' | SyntheticAnswer;

export interface ProxyOptions {
  /**
   * Answer CORS preflights and allow any origin, as a gateway in front of a
   * browser app would (happy-dom's fetch enforces CORS).
   * @default false
   */
  cors?: boolean;
}

export interface LoopbackProxy {
  /** Base URL to give the client, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  readonly log: ProxyLogEntry[];
  /** Decides each request; default forwards everything. Replace it at any time. */
  handle: (req: ProxiedRequest) => ProxyAction | Promise<ProxyAction>;
  /** Requests being answered right now, and the most seen at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Entries whose path starts with `/trpc/<procedure>`. */
  requestsTo(procedure: string): ProxyLogEntry[];
  close(): Promise<void>;
}

// Hop-by-hop fields (RFC 9110 §7.6.1), the Host we replace, and lengths of bodies re-sent as strings.
const SKIP_REQUEST = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade']);
const SKIP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding']);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface UpstreamAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

// node:http rather than fetch: under happy-dom the global fetch is the
// simulated browser's, with CORS, which a proxy must not be subject to.
function forward(agent: Agent, upstream: URL, entry: ProxiedRequest): Promise<UpstreamAnswer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.headers)) {
    if (value !== undefined && !SKIP_REQUEST.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: upstream.hostname, port: upstream.port, method: entry.method, path: entry.path, headers }, (res) => {
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body }), reject);
    });
    req.on('error', reject);
    req.end(entry.method === 'GET' || entry.method === 'HEAD' ? undefined : entry.body);
  });
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'retry-after, ratelimit, ratelimit-policy, idempotent-replayed',
};

/** A tRPC-shaped error body, for synthetic answers. */
export function trpcError(status: number, code: string, message: string, data: Record<string, unknown> = {}): unknown {
  return { error: { message, code: -32000, data: { code, httpStatus: status, ...data } } };
}

/**
 * An HTTP proxy on 127.0.0.1:0 in front of `upstream`, under the test's
 * control: it logs every request with its arrival time and can forward,
 * drop the answer after the server committed, or answer by itself.
 */
export async function startProxy(upstream: string, opts: ProxyOptions = {}): Promise<LoopbackProxy> {
  const upstreamUrl = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const cors = opts.cors ? CORS_HEADERS : {};
  const log: ProxyLogEntry[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    if (opts.cors && req.method === 'OPTIONS') {
      // A preflight (Fetch standard §3.2.2): not logged, never forwarded.
      res.writeHead(204, {
        ...CORS_HEADERS,
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const body = await readBody(req);
    const entry: ProxyLogEntry = {
      index: log.length,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body,
      receivedAt: performance.now(),
      action: 'forward',
    };
    log.push(entry);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const action = await proxy.handle(entry);
      if (typeof action === 'object') {
        entry.action = 'synthetic';
        entry.status = action.status;
        res.writeHead(action.status, { 'content-type': 'application/json', ...cors, ...action.headers });
        res.end(JSON.stringify(action.body));
        entry.answeredAt = performance.now();
        return;
      }
      const upstreamRes = await forward(agent, upstreamUrl, entry);
      entry.status = upstreamRes.status;
      if (action === 'drop-after-forward') {
        entry.action = 'drop';
        entry.answeredAt = performance.now();
        req.socket.destroy();
        return;
      }
      const outHeaders: Record<string, string | string[]> = { ...cors };
      for (const [name, value] of Object.entries(upstreamRes.headers)) {
        if (value !== undefined && !SKIP_RESPONSE.has(name)) outHeaders[name] = value;
      }
      res.writeHead(upstreamRes.status, outHeaders);
      res.end(upstreamRes.body);
      entry.answeredAt = performance.now();
    } finally {
      inFlight--;
    }
  };

  const server = createServer((req, res) => {
    answer(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const proxy: LoopbackProxy = {
    url: `http://127.0.0.1:${port}`,
    log,
    handle: () => 'forward',
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    requestsTo: (procedure) => log.filter((e) => e.path.startsWith(`/trpc/${procedure}`)),
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
