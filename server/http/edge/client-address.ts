import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';

export interface ClientAddress {
  /**
   * Who sent the request: the socket's peer, or, when that peer is one of
   * TRUST_PROXY, the nearest address in X-Forwarded-For that is not itself
   * a trusted proxy. Never the header alone: a client could name any address.
   */
  of(req: IncomingMessage): string;
  /** The key limits count under: an IPv4 address, or an IPv6 address's /64 (one host usually holds a whole /64). */
  groupOf(address: string): string;
  /** Whether a socket peer is a trusted proxy (its connections stand for many clients). */
  isTrustedProxy(address: string): boolean;
  /** An IPv4-mapped IPv6 address as the IPv4 address it maps; any other as it is. */
  normalise(address: string): string;
}

/**
 * Checks TRUST_PROXY's entries: addresses, CIDR ranges, or proxy-addr's
 * names `loopback`, `linklocal`, `uniquelocal`. Throws on a bad one.
 */
export function compileTrust(entries: readonly string[]): (address: string, hop: number) => boolean {
  return proxyAddr.compile([...entries]);
}

// Dotted decimal without leading zeros: ipaddr.js gives it back unchanged, at a cost of microseconds.
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) is the IPv4 address it maps. */
function normalise(address: string): string {
  if (CANONICAL_IPV4.test(address)) return address;
  return ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
}

export function createClientAddress(trustProxy: readonly string[]): ClientAddress {
  // proxy-addr walks X-Forwarded-For right to left past trusted hops (what express's `trust proxy` does).
  const trust = trustProxy.length > 0 ? compileTrust(trustProxy) : null;
  // Without trusted proxies the answer is the socket's peer: worked out once per connection, not per request.
  const peers = new WeakMap<Socket, string>();
  return {
    of(req) {
      if (trust) return normalise(proxyAddr(req, trust));
      const { socket } = req;
      let peer = peers.get(socket);
      if (peer === undefined) {
        peer = normalise(socket.remoteAddress ?? 'unknown');
        // A socket already gone has no address yet to remember.
        if (socket.remoteAddress !== undefined) peers.set(socket, peer);
      }
      return peer;
    },
    groupOf(address) {
      if (!address.includes(':') || !ipaddr.IPv6.isValid(address)) return address;
      const parts = ipaddr.IPv6.parse(address).parts.slice(0, 4);
      return `${parts.map((part) => part.toString(16)).join(':')}::/64`;
    },
    isTrustedProxy(address) {
      return trust !== null && trust(normalise(address), 0);
    },
    normalise,
  };
}
