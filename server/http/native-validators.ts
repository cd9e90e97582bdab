import { z } from 'zod';
import { TRPCError } from '@trpc/server';
import type { AnyMiddlewareFunction, AnyProcedure } from '@trpc/server/unstable-core-do-not-import';

type Parse = (value: unknown) => unknown;
type Opts = Parameters<AnyMiddlewareFunction>[0];
type Tagged = AnyMiddlewareFunction & { _type?: string };

/** A zod schema's sync parse, and its async one when the schema turns out to need it (an async refinement or transform). */
function zodParser(schema: unknown): Parse | null {
  if (!(schema instanceof z.ZodType)) return null;
  return (value) => {
    try {
      return schema.parse(value);
    } catch (err) {
      if (err instanceof z.core.$ZodAsyncError) return schema.parseAsync(value);
      throw err;
    }
  };
}

// tRPC's isObject (codes.ts): what its input middleware merges.
const isObject = (value: unknown): value is Record<string, unknown> => !!value && !Array.isArray(value) && typeof value === 'object';

/** tRPC 11.22's createInputMiddleware, with a sync parse. */
function inputMiddleware(parse: Parse): AnyMiddlewareFunction {
  return (async (opts: Opts) => {
    const rawInput = await opts.getRawInput();
    let parsedInput: unknown;
    try {
      parsedInput = await parse(rawInput);
    } catch (cause) {
      throw new TRPCError({ code: 'BAD_REQUEST', cause });
    }
    const combinedInput = isObject(opts.input) && isObject(parsedInput) ? { ...opts.input, ...parsedInput } : parsedInput;
    return opts.next({ input: combinedInput });
  }) as AnyMiddlewareFunction;
}

/** tRPC 11.22's createOutputMiddleware, with a sync parse. */
function outputMiddleware(parse: Parse): AnyMiddlewareFunction {
  return (async (opts: Opts) => {
    const result = await opts.next();
    if (!result.ok) return result;
    try {
      const data = await parse(result.data);
      return { ...result, data };
    } catch (cause) {
      throw new TRPCError({ message: 'Output validation failed', code: 'INTERNAL_SERVER_ERROR', cause });
    }
  }) as AnyMiddlewareFunction;
}

/*
 * A procedure's middlewares with tRPC's input and output validators (tagged
 * `_type: 'input' | 'output'`, built from `_def.inputs` in order and from
 * `_def.output`) replaced by the same steps calling zod's sync `parse`:
 * tRPC calls `parseAsync`, which costs twice as much for the same result
 * and error, plus an object spread by defineProperty per answer. A schema
 * that is not zod keeps tRPC's own validator.
 */
export function nativeValidators(def: AnyProcedure['_def'], middlewares: readonly AnyMiddlewareFunction[]): AnyMiddlewareFunction[] {
  const { inputs, output } = def as AnyProcedure['_def'] & { inputs: unknown[]; output?: unknown };
  const tagged = middlewares as readonly Tagged[];
  if (tagged.filter((m) => m._type === 'input').length !== inputs.length || tagged.filter((m) => m._type === 'output').length > 1) {
    throw new Error("this tRPC version builds its validators otherwise than from _def.inputs and _def.output: call-procedure.ts needs updating");
  }
  let nextInput = 0;
  return tagged.map((m) => {
    if (m._type === 'input') {
      const parse = zodParser(inputs[nextInput++]);
      return parse ? inputMiddleware(parse) : m;
    }
    if (m._type === 'output') {
      const parse = zodParser(output);
      return parse ? outputMiddleware(parse) : m;
    }
    return m;
  });
}
