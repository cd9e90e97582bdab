import { getTRPCErrorShape, transformTRPCResponse, type TRPCError } from '@trpc/server';
import { getHTTPStatusCode, getHTTPStatusCodeFromError } from '@trpc/server/http';
import { ERROR_REASONS } from '../../shared/errors.js';
import type { Context } from '../context.js';
import { ApiError } from '../errors.js';
import { rootConfig } from '../trpc.js';
import type { StoredResponse } from './store.js';

/*
 * The bytes the tRPC adapter sends for one call, made with the same public
 * functions it uses (resolveResponse: `JSON.stringify(transformTRPCResponse(
 * config, { result: { data } }))`, errors through getTRPCErrorShape and our
 * errorFormatter), so a replay can be stored before the adapter answers.
 */

// What transformTRPCResponse does to a success, without its copies of the envelope by defineProperty per key.
const serialize = rootConfig.transformer.output.serialize;

/** A call's success: 200 `{"result":{"data":…}}` of the output-parsed value. */
export function successResponse(data: unknown): StoredResponse {
  return { status: 200, body: JSON.stringify({ result: { data: serialize(data) } }) };
}

/** A call's error as the adapter formats and statuses it. */
export function errorResponse(error: TRPCError, call: { ctx: Context; path: string; input: unknown }): StoredResponse {
  const json = {
    error: getTRPCErrorShape({ config: rootConfig, error, type: 'mutation', path: call.path, input: call.input, ctx: call.ctx }),
  };
  return { status: getHTTPStatusCode(json), body: JSON.stringify(transformTRPCResponse(rootConfig, json)) };
}

/** The adapter answers a batch with an array of the calls' answers; a batch of one is `[answer]`. */
export function asBatchBody(body: string): string {
  return `[${body}]`;
}

/**
 * Whether an error is the request's definitive answer, stored and replayed
 * (Stripe: "results are only saved if an API endpoint started executing").
 * Not stored, so a retry runs again: validation failures (400), transient
 * answers (408, 409 in flight, 429, 499) and server errors (5xx).
 */
export function isStorableError(error: TRPCError): boolean {
  const status = getHTTPStatusCodeFromError(error);
  if (status < 400 || status >= 500 || [400, 408, 429, 499].includes(status)) return false;
  return !(error.cause instanceof ApiError && error.cause.reason === ERROR_REASONS.idempotencyInFlight);
}
