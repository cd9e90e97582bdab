import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'blackhole' | 'stall';

export interface TcpProxy {
  port: number;
  url(scheme: string): string;
  /**
   * pass: forward; refuse: drop every connection at once; blackhole: accept
   * and never answer (a hung peer); stall: keep every connection open and
   * forward requests, but drop the replies (a peer that stopped answering
   * mid-conversation, which TCP never reports).
   */
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 the test controls, to cut a dependency off without touching the real one. */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (mode === 'refuse') return void client.destroy();
    if (mode === 'blackhole') return void client.resume();
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (mode !== 'stall') client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    setMode(next) {
      mode = next;
      if (next === 'refuse' || next === 'blackhole') for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
