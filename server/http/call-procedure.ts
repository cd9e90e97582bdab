import {
  getTRPCErrorFromUnknown,
  middlewareMarker,
  TRPCError,
  type AnyMiddlewareFunction,
  type AnyProcedure,
  type MiddlewareResult,
} from '@trpc/server/unstable-core-do-not-import';

type MiddlewareOptions = Parameters<AnyMiddlewareFunction>[0];
type NextOptions = { ctx?: object; input?: unknown; getRawInput?: () => Promise<unknown> };

/** What the adapter passes a procedure for one call (tRPC's ProcedureCallOptions, less the abort signal). */
export interface ProcedureCall {
  ctx: object;
  path: string;
  getRawInput: () => Promise<unknown>;
  batchIndex?: number;
}

/*
 * tRPC 11.22's `procedure(opts)` (createProcedureCaller and callRecursive in
 * its initTRPC), step for step: each middleware of `_def.middlewares` gets
 * the call's options with `meta`, `input` and `next`; `next({ ctx })` merges
 * the context, `next({ input })` replaces the input; a throw becomes a
 * failed result; a failed last result is thrown. Hand-written because the
 * published build copies the options and the context with a
 * defineProperty per key at every one of the six middlewares of a call
 * (auth, rate limit, cache or idempotency, input, output, resolver): about
 * a sixth of the CPU of an uncached read in the lean path's profile, where
 * native spreads cost a small part of that. The version is pinned; the
 * parity tests (test/http/lean-*.test.ts) compare every answer with the
 * adapter's, which still calls procedures tRPC's own way.
 */
async function callRecursive(
  middlewares: readonly AnyMiddlewareFunction[],
  index: number,
  meta: unknown,
  opts: MiddlewareOptions,
): Promise<MiddlewareResult<object>> {
  try {
    // Past the last one this throws a TypeError, turned into a failed result as in tRPC.
    const middleware = middlewares[index] as AnyMiddlewareFunction;
    return (await middleware({
      ...opts,
      meta,
      input: opts.input,
      next(nextOpts?: NextOptions) {
        return callRecursive(middlewares, index + 1, meta, {
          ...opts,
          ctx: nextOpts?.ctx ? { ...opts.ctx, ...nextOpts.ctx } : opts.ctx,
          input: nextOpts && 'input' in nextOpts ? nextOpts.input : opts.input,
          getRawInput: nextOpts?.getRawInput ?? opts.getRawInput,
        } as MiddlewareOptions);
      },
    } as MiddlewareOptions)) as MiddlewareResult<object>;
  } catch (cause) {
    return { ok: false, error: getTRPCErrorFromUnknown(cause), marker: middlewareMarker };
  }
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
  const chain = middlewares as AnyMiddlewareFunction[];
  return async (call) => {
    const opts = { ...call, type: _def.type, signal: undefined } as unknown as MiddlewareOptions;
    const result = await callRecursive(chain, 0, _def.meta, opts);
    if (!result) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'No result from middlewares - did you forget to `return next()`?' });
    if (!result.ok) throw result.error;
    return result.data;
  };
}
