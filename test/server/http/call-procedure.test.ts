import { initTRPC, TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callableProcedure } from '../../../server/http/call-procedure.js';

/*
 * call-procedure.ts against tRPC's own procedure call, on a router of its
 * own: the same data, the same errors (code, message, cause), whatever the
 * chain does with context, input and validation.
 */
const t = initTRPC.context<{ user?: string; trace?: string[] }>().create();

const traced = t.middleware(({ ctx, next }) => next({ ctx: { trace: [...(ctx.trace ?? []), 'traced'] } }));
const named = t.middleware(({ ctx, next }) => next({ ctx: { user: `${ctx.user ?? 'anon'}!` } }));
const bare = t.middleware(({ next }) => next());
const refuses = t.middleware(() => {
  throw new TRPCError({ code: 'FORBIDDEN', message: 'no' });
});
const asyncChecked = z.object({ id: z.number() }).refine(async (v) => v.id !== 13, 'unlucky');

const procedures = {
  chain: t.procedure
    .use(traced)
    .use(named)
    .use(bare)
    .input(z.object({ id: z.number() }))
    .input(z.object({ tag: z.string().default('none') }))
    .output(z.object({ id: z.number(), tag: z.string(), user: z.string(), trace: z.array(z.string()) }))
    .query(({ ctx, input }) => ({ ...input, user: ctx.user ?? '', trace: ctx.trace ?? [] })),
  asyncInput: t.procedure.input(asyncChecked).query(({ input }) => input.id),
  badOutput: t.procedure.output(z.object({ ok: z.literal(true) })).query(() => ({ ok: false }) as unknown as { ok: true }),
  refused: t.procedure.use(refuses).query(() => 'never'),
  throws: t.procedure.query(() => {
    throw new Error('boom');
  }),
  transformed: t.procedure
    .input(z.object({ email: z.string().transform((e) => e.toLowerCase()) }))
    .output(z.string())
    .mutation(({ input }) => input.email),
};
const router = t.router(procedures);
const caller = t.createCallerFactory(router);

type Outcome = { data: unknown } | { code: string; message: string; cause: string | undefined };
const outcomeOf = async (run: () => Promise<unknown>): Promise<Outcome> => {
  try {
    return { data: await run() };
  } catch (err) {
    const e = err as TRPCError;
    return { code: e.code, message: e.message, cause: e.cause?.message };
  }
};

async function both(name: keyof typeof procedures, input: unknown, ctx: { user?: string } = {}) {
  const procedure = procedures[name];
  const ours = await outcomeOf(() =>
    callableProcedure(procedure)({ ctx, path: name, getRawInput: async () => input }),
  );
  const call = caller(ctx) as unknown as Record<string, (input: unknown) => Promise<unknown>>;
  const theirs = await outcomeOf(() => (call[name] as (input: unknown) => Promise<unknown>)(input));
  return { ours, theirs };
}

describe('a procedure called through call-procedure.ts', () => {
  const cases: Array<[string, keyof typeof procedures, unknown, { user?: string }?]> = [
    ['merges the context of each middleware and both inputs, then validates the output', 'chain', { id: 1, tag: 'x' }, { user: 'ada' }],
    ['applies a later input schema default', 'chain', { id: 2 }],
    ['fails an input the first schema refuses with BAD_REQUEST', 'chain', { id: 'one' }],
    ['validates a schema with an async refinement', 'asyncInput', { id: 7 }],
    ['refuses through an async refinement with its message', 'asyncInput', { id: 13 }],
    ['fails an output its schema refuses as INTERNAL_SERVER_ERROR', 'badOutput', undefined],
    ['passes a middleware thrown error on', 'refused', undefined],
    ['wraps an unexpected error', 'throws', undefined],
    ['gives the handler the transformed input', 'transformed', { email: 'Ada@Example.COM' }],
  ];
  for (const [name, procedure, input, ctx] of cases) {
    it(`${name}, as tRPC does`, async () => {
      const { ours, theirs } = await both(procedure, input, ctx);
      expect(ours).toEqual(theirs);
    });
  }

  it('answers the chain with the merged context', async () => {
    const { ours } = await both('chain', { id: 1, tag: 'x' }, { user: 'ada' });
    expect(ours).toEqual({ data: { id: 1, tag: 'x', user: 'ada!', trace: ['traced'] } });
  });
});
