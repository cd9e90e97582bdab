import type { IncomingMessage } from 'node:http';

/* A name or address with an optional port: what nearly every request sends, accepted without building a URL. */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;
const MAX_PORT = 65535;

/**
 * Whether the tRPC adapter can turn this request into a fetch Request. It
 * builds `new URL(req.url, 'http://' + host)` (a bad one is its own 400) and
 * then `new Request(url)`, which throws on a URL with credentials
 * (`Host: user:pw@evil`: the Fetch standard's Request constructor refuses credentials), uncaught there: a 500.
 * Anything that is not a plain host is checked the same way here, so it
 * is refused with a 400 instead.
 */
export function adapterCanParse(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (host === undefined) return true;
  const plain = PLAIN_HOST.exec(host);
  // The URL parser refuses a port past 65535 (the adapter's 400): so does this.
  if (plain) return plain[1] === undefined || Number(plain[1]) <= MAX_PORT;
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://${host}`);
  } catch {
    return false;
  }
  return url.username === '' && url.password === '';
}
