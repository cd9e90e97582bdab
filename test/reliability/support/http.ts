import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

/**
 * A bare node:http client. fetch would hide what these tests look at: it
 * refuses some methods and headers, pools connections without a bound we
 * control, and turns a connection dropped mid-answer into the same error as
 * a refused one.
 */

export interface Reply {
  ok: true;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Failure {
  ok: false;
  /** `ECONNREFUSED`, `ECONNRESET`, `timeout`, `incomplete` (the answer was cut off), `client:<code>` (never sent). */
  error: string;
}

export type Outcome = Reply | Failure;

export interface SendOptions {
  /** `http://127.0.0.1:1234` */
  origin: string;
  path: string;
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  agent: Agent;
  /** Whole-exchange deadline. @default 10000 */
  timeoutMs?: number;
  /** Called once the whole request is on a connected socket (the server may not have read it yet). */
  onWritten?: () => void;
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

export function send(opts: SendOptions): Promise<Outcome> {
  const { hostname, port } = new URL(opts.origin);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request({
        host: hostname,
        port: Number(port),
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
        agent: opts.agent,
      });
    } catch (err) {
      // Node refused to put this on the wire (an unescaped path, a control character in a header).
      resolve({ ok: false, error: `client:${errorCode(err)}` });
      return;
    }
    const timer = setTimeout(() => {
      settle({ ok: false, error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => settle({ ok: false, error: errorCode(err) }));
    if (opts.onWritten) req.once('finish', opts.onWritten);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => undefined);
      res.on('close', () => {
        if (!res.complete) return settle({ ok: false, error: 'incomplete' });
        settle({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

/** `/trpc/users.list?input=…` for a query. */
export function queryPath(procedure: string, input?: unknown): string {
  const base = `/trpc/${procedure}`;
  return input === undefined ? base : `${base}?input=${encodeURIComponent(JSON.stringify(input))}`;
}

export function bearer(key: string): OutgoingHttpHeaders {
  return { authorization: `Bearer ${key}` };
}

/** The `result.data` of a tRPC success body, or undefined. */
export function resultData(body: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'result' in parsed) {
      const result: unknown = parsed.result;
      if (result && typeof result === 'object' && 'data' in result) return result.data;
    }
  } catch {
    // Not JSON: the caller treats it as no data.
  }
  return undefined;
}

export function header(reply: Reply, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Retry-After in ms (delay-seconds, RFC 9110 §10.2.3), capped; `fallbackMs` when absent or unreadable. */
export function retryAfterMs(reply: Reply, fallbackMs: number, capMs: number): number {
  const seconds = Number(header(reply, 'retry-after'));
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, capMs) : fallbackMs;
}

export interface RawReply {
  /** Every status line the server sent back (pipelined requests give several). */
  statuses: number[];
  text: string;
  /** True when the server neither answered nor closed within the deadline. */
  timedOut: boolean;
}

/**
 * Writes raw bytes on a fresh connection and reads until the server closes
 * it: the only way to send what node:http refuses to (bad request lines,
 * control characters, conflicting lengths).
 */
export function sendRaw(origin: string, bytes: string | Buffer, timeoutMs = 3000): Promise<RawReply> {
  const { hostname, port } = new URL(origin);
  return new Promise<RawReply>((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const socket = connect({ host: hostname, port: Number(port) });
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ statuses, text, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('connect', () => socket.end(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}
