import type { IncomingMessage } from 'node:http';

export type PeekedBody =
  | { kind: 'complete'; text: string }
  /** Over the limit: what was read is back in the stream, so the adapter counts it and answers its own 413. */
  | { kind: 'too-large' }
  | { kind: 'failed' };

/**
 * Reads a request body of at most `maxBytes` without taking it from the
 * tRPC adapter: a body too large is pushed back into the stream unread, and
 * a complete one can be handed back with `handBackBody`. Decoded as
 * `Request.json()` decodes (UTF-8, a BOM dropped, bad bytes as U+FFFD).
 */
export function peekBody(req: IncomingMessage, maxBytes: number): Promise<PeekedBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (body: PeekedBody) => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onFailed);
      req.off('aborted', onFailed);
      resolve(body);
    };
    // Paused mode ('readable' + read()), not 'data': once this listener is
    // gone the stream is neither flowing nor paused, so the adapter's own
    // 'data' listener starts it again, unshifted bytes first.
    const onReadable = () => {
      let chunk: unknown;
      while ((chunk = req.read()) !== null) {
        if (!Buffer.isBuffer(chunk)) continue;
        chunks.push(chunk);
        size += chunk.length;
        if (size > maxBytes) {
          req.unshift(Buffer.concat(chunks));
          finish({ kind: 'too-large' });
          return;
        }
      }
    };
    const onEnd = () => finish({ kind: 'complete', text: new TextDecoder().decode(Buffer.concat(chunks)) });
    const onFailed = () => finish({ kind: 'failed' });
    req.on('readable', onReadable);
    req.once('end', onEnd);
    req.once('error', onFailed);
    req.once('aborted', onFailed);
  });
}

/**
 * Gives a body read by `peekBody` back to the tRPC adapter, which reads
 * `req.body` when set ("Assign the parsed body to `req.body` so tRPC can use it").
 */
export function handBackBody(req: IncomingMessage, text: string): void {
  Object.assign(req, { body: text });
}
