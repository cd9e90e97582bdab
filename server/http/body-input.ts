import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';

/** Collects the body from now on, as the adapter's request stream does from the moment it is built. */
function collect(req: IncomingMessage): Promise<string> {
  // Read back already (the idempotent replay peeked it and handed it back): the adapter reads `req.body` too.
  const handedBack: unknown = (req as IncomingMessage & { body?: unknown }).body;
  if (typeof handedBack === 'string') return Promise.resolve(handedBack);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onEnd = () => {
      done();
      // Decoded as Request.json() decodes: UTF-8, a BOM dropped, bad bytes as U+FFFD.
      resolve(new TextDecoder().decode(Buffer.concat(chunks)));
    };
    const onAborted = () => {
      done();
      reject(new Error('The request was aborted before its body arrived'));
    };
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onAborted);
      req.off('close', onAborted);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('aborted', onAborted);
    req.once('error', onAborted);
    // Closed before its end: no body is coming, and nothing may wait for one.
    req.once('close', onAborted);
  });
}

/**
 * A JSON body's input, as tRPC 11.22's JSON content handler gives it to a
 * single call (contentType.ts): the bytes read at once, parsed on the first
 * `getRawInput()`, which fails with its BAD_REQUEST and the parser's
 * message for a body that is not JSON, and the same outcome every time.
 * Reading starts now, as the adapter's does; parsing waits for the
 * middleware that asks, so an answer given before (a 401, a missing
 * Idempotency-Key, an empty bucket) is given at the same moment as the
 * adapter's, with the same `Connection` (edge/early-answer.ts).
 */
export function bodyInput(req: IncomingMessage): () => Promise<unknown> {
  const text = collect(req);
  // Nobody may ask (an early answer): a body that never arrives is no unhandled rejection.
  text.catch(() => undefined);
  let input: Promise<unknown> | undefined;
  return () =>
    (input ??= text.then(JSON.parse).catch((cause: unknown) => {
      throw new TRPCError({ code: 'BAD_REQUEST', message: cause instanceof Error ? cause.message : 'Invalid input', cause });
    }));
}
