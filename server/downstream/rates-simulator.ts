import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the simulator answers `GET /rates`. */
export const simulatorModes = ['ok', 'slow', 'error', 'hang'] as const;
export type SimulatorMode = (typeof simulatorModes)[number];

export interface RatesSimulatorOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to listen on; loopback so a demo never exposes it. @default '127.0.0.1' */
  host?: string;
  /** Initial mode. @default 'ok' */
  mode?: SimulatorMode;
  /** Delay of an answer in `slow` mode, in ms. @default 2000 */
  slowMs?: number;
  /** Serve `GET`/`POST /mode`; off, `/mode` is a 404 (production has no control endpoint). @default true */
  control?: boolean;
}

export interface RatesSimulator {
  /** The provider endpoint, e.g. `http://127.0.0.1:4010/rates`: what `RATES_URL` would hold. */
  readonly url: string;
  /** The control endpoint, e.g. `http://127.0.0.1:4010/mode` (a 404 when `control` is off). */
  readonly controlUrl: string;
  readonly mode: SimulatorMode;
  /** `GET /rates` requests received, whatever the mode (control calls are not counted). */
  readonly calls: number;
  setMode(mode: SimulatorMode): void;
  /** Stops listening and destroys open sockets, hung requests included. */
  close(): Promise<void>;
}

// Roughly real mid-market rates per USD; the simulator only needs plausible numbers.
const baseRates: Readonly<Record<string, number>> = {
  EUR: 0.92, GBP: 0.79, JPY: 151.2, CHF: 0.88, CAD: 1.36, AUD: 1.52, SEK: 10.6, INR: 83.3,
};

const jsonHeaders = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const maxControlBody = 1024;

export function isSimulatorMode(value: unknown): value is SimulatorMode {
  return typeof value === 'string' && (simulatorModes as readonly string[]).includes(value);
}

/**
 * Starts a fake exchange-rate provider on its own port. `GET /rates?base=USD`
 * answers like the real provider in `ok` mode, after `slowMs` in `slow`, with
 * a 500 in `error`, and never in `hang`. `GET /mode` reads the mode and
 * `POST /mode` with a body of `hang` (or `{"mode":"hang"}`) switches it:
 *
 * ```sh
 * curl -X POST --data hang http://127.0.0.1:4010/mode
 * ```
 */
export async function startRatesSimulator(opts: RatesSimulatorOptions = {}): Promise<RatesSimulator> {
  const port = opts.port ?? 0;
  const host = opts.host ?? '127.0.0.1';
  const slowMs = opts.slowMs ?? 2000;
  const control = opts.control ?? true;
  let mode: SimulatorMode = opts.mode ?? 'ok';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
  if (!Number.isFinite(slowMs) || slowMs < 0) throw new RangeError(`slowMs must be a finite number >= 0, got ${slowMs}`);
  if (!isSimulatorMode(mode)) throw new TypeError(`mode must be one of ${simulatorModes.join(', ')}, got ${String(mode)}`);

  let calls = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const answerRates = (url: URL, res: ServerResponse): void => {
    if ((url.searchParams.get('base') ?? 'USD') !== 'USD') return send(res, 400, { error: 'only base=USD is simulated' });
    // A small drift per call shows a refresh happened, while staying reproducible.
    const drift = 1 + 0.001 * Math.sin(calls);
    const rates: Record<string, number> = {};
    for (const [code, rate] of Object.entries(baseRates)) rates[code] = Number((rate * drift).toPrecision(6));
    send(res, 200, { base: 'USD', rates, asOf: new Date().toISOString() });
  };

  const onRates = (url: URL, res: ServerResponse): void => {
    calls++;
    switch (mode) {
      case 'hang':
        return; // the socket stays open until the client gives up or close() destroys it
      case 'error':
        return send(res, 500, { error: 'simulated provider failure' });
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answerRates(url, res);
        }, slowMs);
        timers.add(timer);
        res.once('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
        return;
      }
      case 'ok':
        return answerRates(url, res);
    }
  };

  const onMode = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET') return send(res, 200, { mode });
    const body = await readBody(req);
    if (body === null) return send(res, 413, { error: `body larger than ${maxControlBody} bytes` });
    const next = parseSimulatorMode(body);
    if (!isSimulatorMode(next)) return send(res, 400, { error: `mode must be one of ${simulatorModes.join(', ')}` });
    mode = next;
    send(res, 200, { mode });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname === '/rates') {
      // 405 must list the allowed methods (RFC 9110 §15.5.6).
      if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      return onRates(url, res);
    }
    if (url.pathname === '/mode' && control) {
      if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, { error: 'method not allowed' }, { allow: 'GET, POST' });
      onMode(req, res).catch(() => res.destroy());
      return;
    }
    send(res, 404, { error: 'not found' });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port: boundPort } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  let closing: Promise<void> | undefined;

  return {
    url: `${origin}/rates`,
    controlUrl: `${origin}/mode`,
    get mode() {
      return mode;
    },
    get calls() {
      return calls;
    },
    setMode(next) {
      if (!isSimulatorMode(next)) throw new TypeError(`mode must be one of ${simulatorModes.join(', ')}`);
      mode = next;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        // server.close() waits for open connections; a hung request would keep it waiting forever.
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...jsonHeaders, ...headers }).end(JSON.stringify(body));
}

/** The mode a control body names: `hang`, or `{"mode":"hang"}`; anything else is returned for the caller to refuse. */
export function parseSimulatorMode(body: string): unknown {
  const text = body.trim();
  if (!text.startsWith('{')) return text;
  try {
    return (JSON.parse(text) as { mode?: unknown }).mode;
  } catch {
    return undefined;
  }
}

/** Reads a small body; null when it exceeds the control endpoint's limit. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Drain rather than break out: leaving the loop early destroys the socket before the 413 is sent.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxControlBody) chunks.push(chunk);
  }
  return size > maxControlBody ? null : Buffer.concat(chunks).toString('utf8');
}
