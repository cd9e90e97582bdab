import {
  getTRPCErrorFromUnknown,
  middlewareMarker,
  TRPCError,
  type AnyMiddlewareFunction,
  type AnyProcedure,
  type MiddlewareResult,
} from '@trpc/server/unstable-core-do-not-import';
import { nativeValidators } from './native-validators.js';

type MiddlewareOptions = Parameters<AnyMiddlewareFunction>[0];
type NextOptions = { ctx?: object; input?: unknown; getRawInput?: () => Promise<unknown> };
type Result = MiddlewareResult<object>;

/** What the adapter passes a procedure for one call (tRPC's ProcedureCallOptions, less the abort signal). */
export interface ProcedureCall {
  ctx: object;
  path: string;
  getRawInput: () => Promise<unknown>;
  batchIndex?: number;
}

/** The options one step of a call carries to the next: always this shape, so V8 sees one. */
interface Step {
  ctx: object;
  type: string;
  path: string;
  input: unknown;
  getRawInput: () => Promise<unknown>;
  batchIndex: number | undefined;
}

const failed = (cause: unknown): Result => ({ ok: false, error: getTRPCErrorFromUnknown(cause), marker: middlewareMarker });

/*
 * tRPC 11.22's `procedure(opts)` (createProcedureCaller and callRecursive in
 * its initTRPC), step for step: each middleware of `_def.middlewares` gets
 * the call's options with `meta`, `input` and `next`; `next({ ctx })` merges
 * the context, `next({ input })` replaces the input; a throw or a rejection
 * becomes a failed result; a failed last result is thrown. Hand-written
 * because the published build copies the options and the context with a
 * defineProperty per key at every one of the six middlewares of a call
 * (auth, rate limit, cache or idempotency, input, output, resolver), and
 * wraps each in an async function: a fifth of the CPU of an uncached read
 * in the lean path's profile. Here the options are one object literal of a
 * fixed shape, a bare `next()` passes its step on unchanged (nothing can
 * tell: each middleware gets its own options object either way), and a
 * step is the middleware's own promise with a rejection handler. The
 * version is pinned; the parity tests (test/http/lean-*.test.ts) compare
 * every answer with the adapter's, which still calls procedures tRPC's own way.
 */
function callRecursive(middlewares: readonly AnyMiddlewareFunction[], index: number, meta: unknown, step: Step): Promise<Result> {
  let pending: Promise<Result>;
  try {
    // Past the last one this throws a TypeError, turned into a failed result as in tRPC.
    const middleware = middlewares[index] as AnyMiddlewareFunction;
    pending = middleware({
      ctx: step.ctx,
      type: step.type,
      path: step.path,
      input: step.input,
      getRawInput: step.getRawInput,
      batchIndex: step.batchIndex,
      signal: undefined,
      meta,
      next(nextOpts?: NextOptions) {
        if (nextOpts === undefined) return callRecursive(middlewares, index + 1, meta, step);
        return callRecursive(middlewares, index + 1, meta, {
          ctx: nextOpts.ctx ? { ...step.ctx, ...nextOpts.ctx } : step.ctx,
          type: step.type,
          path: step.path,
          input: 'input' in nextOpts ? nextOpts.input : step.input,
          getRawInput: nextOpts.getRawInput ?? step.getRawInput,
          batchIndex: step.batchIndex,
        });
      },
    } as unknown as MiddlewareOptions) as Promise<Result>;
  } catch (cause) {
    return Promise.resolve(failed(cause));
  }
  return Promise.resolve(pending).then(undefined, failed);
}

/** One procedure, ready to call as the adapter calls it; resolves to its data or throws its error. */
export type Callable = (call: ProcedureCall) => Promise<unknown>;

/**
 * Makes `procedure` callable as the adapter calls it (`procedure({ path,
 * getRawInput, ctx, type, batchIndex })`). Throws at once, when the server
 * is built, should tRPC keep its middlewares elsewhere than in this version.
 */
export function callableProcedure(procedure: AnyProcedure): Callable {
  const { _def } = procedure;
  const { middlewares } = _def as typeof _def & { middlewares?: unknown };
  if (!Array.isArray(middlewares) || !middlewares.every((m) => typeof m === 'function')) {
    throw new Error('this tRPC version keeps no middlewares array on its procedures: the lean paths need updating');
  }
  const chain = nativeValidators(_def, middlewares as AnyMiddlewareFunction[]);
  const { type, meta } = _def;
  return async (call) => {
    const step: Step = { ctx: call.ctx, type, path: call.path, input: undefined, getRawInput: call.getRawInput, batchIndex: call.batchIndex };
    const result = await callRecursive(chain, 0, meta, step);
    if (!result) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'No result from middlewares - did you forget to `return next()`?' });
    if (!result.ok) throw result.error;
    return result.data;
  };
}
