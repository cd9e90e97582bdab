import type { ServerOptions } from 'node:http';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../../config.js';
import type { ClientAddress } from './client-address.js';

type Limits = Pick<Config, 'HEADERS_TIMEOUT_MS' | 'REQUEST_TIMEOUT_MS' | 'MAX_CONNECTIONS' | 'MAX_CONNECTIONS_PER_ADDRESS'>;

/**
 * Node's own deadlines for a slow client: the request head within
 * HEADERS_TIMEOUT_MS, the whole request (a trickled body included) within
 * REQUEST_TIMEOUT_MS, else node answers 408 and closes. Node checks them
 * every `connectionsCheckingInterval` (30 s by default, which would let a
 * 10 s deadline run to 40 s): a quarter of the head deadline, at most 1 s.
 */
export function timeoutOptions(config: Limits): ServerOptions {
  return {
    headersTimeout: config.HEADERS_TIMEOUT_MS,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(config.HEADERS_TIMEOUT_MS / 4))),
  };
}

/**
 * Caps open connections: MAX_CONNECTIONS in all (node closes any past it
 * at once), and MAX_CONNECTIONS_PER_ADDRESS from one client address (an
 * IPv6 one by its /64), so one client cannot take every socket and file
 * descriptor with silent connections. A TRUST_PROXY proxy carries many
 * clients and is not capped per address.
 */
export function capConnections(server: Server, config: Limits, addresses: ClientAddress): void {
  server.maxConnections = config.MAX_CONNECTIONS;
  const perAddress = config.MAX_CONNECTIONS_PER_ADDRESS;
  const open = new Map<string, number>();
  // Before node's own listener, so a refused socket is gone before any parsing is set up on it.
  server.prependListener('connection', (socket: Socket) => {
    const peer = socket.remoteAddress;
    if (peer === undefined || addresses.isTrustedProxy(peer)) return;
    const group = addresses.groupOf(addresses.normalise(peer));
    const count = (open.get(group) ?? 0) + 1;
    if (count > perAddress) {
      socket.destroy();
      return;
    }
    open.set(group, count);
    socket.once('close', () => {
      const left = (open.get(group) ?? 1) - 1;
      if (left === 0) open.delete(group);
      else open.set(group, left);
    });
  });
}
