import { middleware } from '../trpc.js';

/** First in every chain: resolves the API key to a tenant (401/429 otherwise). */
export const auth = middleware(async ({ ctx, next }) => {
  const info = await ctx.services.authGate(ctx.req, ctx.res);
  return next({ ctx: { auth: info } });
});
