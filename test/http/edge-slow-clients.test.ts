import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(env: Record<string, string>): Promise<TestServer> {
  const server = await startTestServer({ NODE_ENV: 'production', SEED: 'true', ...env });
  servers.push(server);
  return server;
}

/** A raw connection that records what the server sends and when it closes. */
interface Raw {
  socket: Socket;
  received(): string;
  /** Resolves once the server has closed the connection (or it failed). */
  closed: Promise<void>;
}
function open(server: TestServer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    sockets.push(socket);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}
/** Sends one GET /healthz on the connection and resolves with the status line's code once the answer arrived. */
function healthz(raw: Raw): Promise<number> {
  const before = raw.received().length;
  raw.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  return new Promise((resolve) => {
    const check = () => {
      const status = /HTTP\/1\.1 (\d{3})/.exec(raw.received().slice(before))?.[1];
      if (status !== undefined) {
        raw.socket.off('data', check);
        resolve(Number(status));
      }
    };
    raw.socket.on('data', check);
    check();
  });
}
/**
 * A connection the server keeps: the server learns of a client's close a
 * little after the client, so a refused attempt (closed with nothing said) is retried.
 */
async function openAccepted(server: TestServer): Promise<Raw> {
  for (;;) {
    const raw = await open(server);
    const answered = healthz(raw).then((status) => status);
    const outcome = await Promise.race([answered, raw.closed.then(() => 'closed' as const)]);
    if (outcome !== 'closed') return raw;
  }
}

describe('slow clients', () => {
  it('a request head not complete within HEADERS_TIMEOUT_MS is answered 408 and the connection closed', async () => {
    const server = await start({ HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '600' });
    const raw = await open(server);
    raw.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a body trickled past REQUEST_TIMEOUT_MS is answered 408 and the connection closed', async () => {
    const server = await start({ HEADERS_TIMEOUT_MS: '200', REQUEST_TIMEOUT_MS: '400' });
    const raw = await open(server);
    const body = JSON.stringify({ email: 'slow@example.com', name: 'Slow' }).padEnd(5000, ' ');
    raw.socket.write(
      `POST /trpc/users.create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer demo-alice\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // One byte at a time until the server gives up: 5000 bytes would take far longer than the deadline.
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < body.length && !raw.socket.destroyed) raw.socket.write(body[sent++] ?? ' ');
    }, 20);
    await raw.closed;
    clearInterval(trickle);
    expect(sent).toBeLessThan(body.length);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('an answer given before the body arrived (401) closes the connection instead of reading the rest', async () => {
    const server = await start({});
    const raw = await open(server);
    // A chunked body that never ends: one 64 KB chunk, then nothing.
    raw.socket.write('POST /trpc/users.create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    raw.socket.write(`10000\r\n${' '.repeat(0x10000)}\r\n`);
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(raw.received()).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('a declared body past MAX_BODY_BYTES is a 413 at once, and the connection closed', async () => {
    const server = await start({ MAX_BODY_BYTES: '1000' });
    const raw = await open(server);
    raw.socket.write(
      'POST /trpc/users.create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer demo-alice\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw.received()).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('keeps the connection of an answer given after the whole body was read', async () => {
    const server = await start({});
    const raw = await open(server);
    const body = '{"email":"kept@example.com","name":"Kept"}';
    raw.socket.write(
      `POST /trpc/users.create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer demo-alice\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(await healthz(raw)).toBe(200);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.received()).not.toMatch(/\r\nConnection: close\r\n/i);
  });
});

describe('connection caps', () => {
  it('MAX_CONNECTIONS_PER_ADDRESS: one address past its cap has new connections closed, and gets them back as others close', async () => {
    const server = await start({ MAX_CONNECTIONS_PER_ADDRESS: '2' });
    const [a, b] = await Promise.all([open(server), open(server)]);
    if (!a || !b) throw new Error('no connection');
    expect(await healthz(a)).toBe(200);
    const refused = await open(server);
    await refused.closed;
    expect(refused.received()).toBe('');
    expect(await healthz(b)).toBe(200);
    a.socket.destroy();
    expect(await healthz(await openAccepted(server))).toBe(200);
  });

  it('MAX_CONNECTIONS_PER_ADDRESS does not cap a TRUST_PROXY proxy, whose connections stand for many clients', async () => {
    const server = await start({ MAX_CONNECTIONS_PER_ADDRESS: '2', TRUST_PROXY: '127.0.0.1' });
    const raws = await Promise.all([open(server), open(server), open(server)]);
    for (const raw of raws) expect(await healthz(raw)).toBe(200);
  });

  it('MAX_CONNECTIONS: past it, a new connection is closed at once', async () => {
    const server = await start({ MAX_CONNECTIONS: '2' });
    const [a, b] = await Promise.all([open(server), open(server)]);
    if (!a || !b) throw new Error('no connection');
    // Both answered: the server holds both.
    expect([await healthz(a), await healthz(b)]).toEqual([200, 200]);
    const refused = await open(server);
    await refused.closed;
    expect(refused.received()).toBe('');
    expect(await healthz(a)).toBe(200);
  });
});
