import type { ServerResponse } from 'node:http';
import type { TRPCError } from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
import { getErrorShape } from '@trpc/server/unstable-core-do-not-import';
import { appRouter } from '../routers/app.js';
import type { Context } from '../context.js';
import { ADAPTER_VARY, JSON_CONTENT_TYPE } from '../cache/response-headers.js';
import { reportError, responseMeta, type AnswerMeta } from './trpc-hooks.js';

/*
 * One single (non-batched) call's answer, written as tRPC 11.22's
 * resolveResponse and node-http writeResponse write it: `vary`, then
 * `content-type`, then the responseMeta headers appended; the status from
 * the body unless responseMeta gives one, and only if nothing set another
 * before (writeResponse keeps a status a procedure set: the cache's 304).
 * No transformer, so the body is JSON.stringify of the envelope.
 *
 * One difference in framing only: the adapter streams the body (chunked);
 * here it goes out in one write with Content-Length, as the cache fast path
 * and the cache middleware already send it.
 */
function writeAnswer(res: ServerResponse, status: number, meta: AnswerMeta, body: string): void {
  if (res.statusCode === 200) res.statusCode = meta.status ?? status;
  if (meta.headers === undefined) {
    res.setHeader('vary', ADAPTER_VARY);
    res.setHeader('content-type', JSON_CONTENT_TYPE);
  } else {
    const headers = new Headers([['vary', ADAPTER_VARY]]);
    headers.set('content-type', JSON_CONTENT_TYPE);
    for (const [name, value] of meta.headers) headers.append(name, value);
    for (const [name, value] of headers) if (name !== 'set-cookie') res.setHeader(name, value);
    const cookies = headers.getSetCookie();
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  }
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

const NO_ERRORS: readonly TRPCError[] = [];

/** A query's success: 200 `{"result":{"data":…}}`. */
export function sendTrpcResult(res: ServerResponse, data: unknown): void {
  writeAnswer(res, 200, responseMeta({ errors: NO_ERRORS }), JSON.stringify({ result: { data } }));
}

export interface TrpcErrorAnswer {
  error: TRPCError;
  path: string;
  /** The procedure's type, as the adapter gives it to the error formatter. @default 'query' */
  type?: 'query' | 'mutation';
  /** What the adapter passes: the parsed input if a middleware read it, else undefined. */
  input: unknown;
  ctx: Context;
}

/**
 * A query's failure: the adapter's onError, then `{"error": shape}` from
 * the router's error formatter, with the status tRPC derives from it.
 */
export function sendTrpcError(res: ServerResponse, { error, path, type = 'query', input, ctx }: TrpcErrorAnswer): void {
  reportError(ctx.services.log, { error, path, ctx });
  const shape = getErrorShape({ config: appRouter._def._config, error, type, path, input, ctx });
  writeAnswer(res, getHTTPStatusCode({ error: shape }), responseMeta({ errors: [error] }), JSON.stringify({ error: shape }));
}

/** One call of a batch: its data, or its error with what the error formatter is given. */
export type BatchOutcome = { data: unknown } | { error: TRPCError; path: string; input: unknown };

/**
 * A batch of queries: `[{"result":…} | {"error":…}, …]` in call order, its
 * status tRPC's (the calls' one status, or 207 when they differ), and the
 * responseMeta of all the errors, as the adapter answers a batch that is
 * not streamed. Each error was reported (onError) when its call failed.
 */
export function sendTrpcBatch(res: ServerResponse, ctx: Context, outcomes: readonly BatchOutcome[]): void {
  const errors: TRPCError[] = [];
  const body = outcomes.map((o) => {
    if ('data' in o) return { result: { data: o.data } };
    errors.push(o.error);
    return { error: getErrorShape({ config: appRouter._def._config, error: o.error, type: 'query', path: o.path, input: o.input, ctx }) };
  });
  writeAnswer(res, getHTTPStatusCode(body), responseMeta({ errors }), JSON.stringify(body));
}
