import { connect, type Socket } from 'node:net';

/*
 * A load generator on raw sockets, for the overload benchmark. autocannon
 * opens its connections while the load runs, so with 2 000 of them the
 * listen queue of a busy server is what gets measured; node:http's client
 * costs the shared cores several times what the server's refusal does.
 * Here every connection is opened (and seen accepted) first, then each sends one request at a
 * time (HTTP/1.1 keep-alive), reads the answer's status, Retry-After and
 * Content-Length, and sends again: at once, or after Retry-After (plus up
 * to as long again at random, as the client SDK does).
 */

export interface RawLoadOptions {
  url: string;
  /** Request path with its query. */
  path: string;
  headers: Record<string, string>;
  connections: number;
  durationMs: number;
  /** Wait as a 503/429's Retry-After says before the next request on that connection. */
  honourRetryAfter: boolean;
  /** An answer not complete by then is a timeout (the connection is replaced). @default 2000 */
  timeoutMs?: number;
  /** Awaited once every connection is open, before the first request goes out. */
  ready?: () => Promise<void>;
  /** Called once every connection is open, as the first requests go out. */
  onStart?: () => void;
  /** Called with each answer's status, Retry-After (seconds, when sent) and latency in ms. */
  onAnswer?: (status: number, retryAfterS: number | undefined, ms: number) => void;
}

export interface RawLoadResult {
  /** Answers by status; `timeout` for requests left unanswered. */
  statuses: Record<string, number>;
  /** Latency of each 2xx answer and of every answer, in ms. */
  okMs: number[];
  allMs: number[];
  /** Refusals (503) lacking Retry-After or a JSON body that says overloaded. */
  unclean: number;
  durationMs: number;
}

interface Conn {
  socket: Socket;
  buffer: Buffer;
  sentAt: number;
  /** The timeout of the request out on `socket`; undefined while none is. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** `socket` has answered before: closed with a request out, it may have been closed as idle just as the request went out. */
  answered: boolean;
}

const HEAD_END = Buffer.from('\r\n\r\n');

const PRIME = (host: string) => Buffer.from(`GET /healthz HTTP/1.1\r\nhost: ${host}\r\n\r\n`);

/**
 * Opens `count` connections to `url`, 200 at a time, each confirmed by
 * one answered `GET /healthz`. A connect() completes in the kernel's
 * listen queue, before the server has accepted anything, and libuv (1.46,
 * Node 20) accepts one connection per event-loop iteration: a server busy
 * with the first connections would take seconds to accept the next ones,
 * and their first requests would time out in the listen queue. Answered
 * on every connection, the flood starts only once the server holds them all.
 */
async function openAll(url: string, count: number): Promise<Socket[]> {
  const { hostname, port, host } = new URL(url);
  const prime = PRIME(host);
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 200) {
    const batch = Array.from(
      { length: Math.min(200, count - i) },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect({ host: hostname, port: Number(port) });
          socket.setNoDelay(true);
          let seen = Buffer.alloc(0);
          const onData = (chunk: Buffer) => {
            seen = Buffer.concat([seen, chunk]);
            const end = seen.indexOf(HEAD_END);
            if (end === -1) return;
            const length = Number(/\r\ncontent-length: *(\d+)/i.exec(seen.subarray(0, end).toString('latin1'))?.[1] ?? 0);
            if (seen.length < end + 4 + length) return;
            socket.off('data', onData);
            socket.off('error', reject);
            resolve(socket);
          };
          socket.on('data', onData);
          socket.once('connect', () => socket.write(prime));
          socket.once('error', reject);
        }),
    );
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

export async function rawLoad(opts: RawLoadOptions): Promise<RawLoadResult> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const { host, hostname, port } = new URL(opts.url);
  const head = Object.entries({ host, ...opts.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const request = Buffer.from(`GET ${opts.path} HTTP/1.1\r\n${head}\r\n`);
  const statuses: Record<string, number> = {};
  const okMs: number[] = [];
  const allMs: number[] = [];
  let unclean = 0;
  const add = (label: string) => (statuses[label] = (statuses[label] ?? 0) + 1);

  const sockets = await openAll(opts.url, opts.connections);
  await opts.ready?.();
  opts.onStart?.();
  const started = performance.now();
  const until = started + opts.durationMs;
  let open = sockets.length;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const closeOne = () => {
    if (--open === 0) finish();
  };

  /** Replaces the connection's socket with a new connection, as a client does. */
  const reconnect = (conn: Conn) => {
    conn.socket.removeAllListeners();
    conn.socket.destroy();
    conn.socket = connect({ host: hostname, port: Number(port) });
    conn.socket.setNoDelay(true);
    conn.buffer = Buffer.alloc(0);
    conn.answered = false;
    listen(conn);
  };

  const send = (conn: Conn) => {
    if (performance.now() >= until) {
      conn.socket.destroy();
      return closeOne();
    }
    conn.sentAt = performance.now();
    // The server closes a keep-alive connection idle past its keepAliveTimeout
    // (a client waiting out a long Retry-After): a client opens a new one and
    // sends on it, and the time to connect (the listen queue) counts in the answer's.
    if (conn.socket.destroyed || conn.socket.readyState !== 'open') reconnect(conn);
    conn.timer = setTimeout(() => {
      add('timeout');
      conn.timer = undefined;
      conn.socket.removeAllListeners('data');
      conn.socket.destroy();
      // A fresh connection in its place, as a client would open.
      void openAll(opts.url, 1).then(
        ([socket]) => (socket ? attach(socket) : closeOne()),
        () => closeOne(),
      );
    }, timeoutMs);
    conn.socket.write(request);
  };

  const onAnswer = (conn: Conn, status: number, headers: string, body: Buffer) => {
    clearTimeout(conn.timer);
    conn.timer = undefined;
    conn.answered = true;
    const ms = performance.now() - conn.sentAt;
    add(String(status));
    allMs.push(ms);
    let waitMs = 0;
    if (status >= 200 && status < 300) {
      okMs.push(ms);
      opts.onAnswer?.(status, undefined, ms);
    } else {
      const retryAfter = /\r\nretry-after: *(\d+)/i.exec(headers)?.[1];
      opts.onAnswer?.(status, retryAfter === undefined ? undefined : Number(retryAfter), ms);
      if (status === 503 && (retryAfter === undefined || !body.includes('"overloaded"'))) unclean++;
      if (opts.honourRetryAfter && retryAfter !== undefined) {
        const after = Number(retryAfter) * 1000;
        waitMs = after + Math.floor(Math.random() * after);
      }
    }
    // A wait that ends past the run would send nothing more: the connection
    // ends now, so the run's length (the goodput's denominator) is not
    // stretched by idle waits beyond it.
    if (waitMs > 0 && performance.now() + waitMs >= until) {
      conn.socket.destroy();
      closeOne();
    } else if (waitMs > 0) setTimeout(() => send(conn), waitMs);
    else send(conn);
  };

  const listen = (conn: Conn) => {
    const { socket } = conn;
    socket.on('data', (chunk: Buffer) => {
      conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, chunk]) : chunk;
      const end = conn.buffer.indexOf(HEAD_END);
      if (end === -1) return;
      const headers = conn.buffer.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
      if (conn.buffer.length < end + 4 + length) return;
      const body = conn.buffer.subarray(end + 4, end + 4 + length);
      conn.buffer = conn.buffer.subarray(end + 4 + length);
      onAnswer(conn, Number(headers.slice(9, 12)), headers, body);
    });
    socket.on('error', () => undefined);
    // Closed with a request out and nothing of its answer read, on a
    // connection that had answered before: the server closed it as idle
    // before it read the request (its keep-alive timer ran first on a
    // stalled loop, or its close crossed the request). Sent again at once
    // on a new connection, as a client retries a GET on a reused
    // connection; its latency counts from the first send.
    socket.on('close', () => {
      if (socket !== conn.socket || conn.timer === undefined || !conn.answered || conn.buffer.length > 0) return;
      clearTimeout(conn.timer);
      conn.timer = undefined;
      const sentAt = conn.sentAt;
      // The socket is closed: send connects anew.
      send(conn);
      conn.sentAt = sentAt;
    });
  };

  const attach = (socket: Socket) => {
    const conn: Conn = { socket, buffer: Buffer.alloc(0), sentAt: 0, timer: undefined, answered: true };
    listen(conn);
    send(conn);
  };

  for (const socket of sockets) attach(socket);
  await done;
  return { statuses, okMs, allMs, unclean, durationMs: performance.now() - started };
}

/** The p-th percentile (0–100) of `values`, 0 when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))] ?? 0;
}
