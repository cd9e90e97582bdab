import { TRPCError } from '@trpc/server';
import {
  createPaymentInputSchema,
  listPaymentsInputSchema,
  paymentSchema,
  paymentsPageSchema,
} from '../../shared/schemas/payments.js';
import type { Rates } from '../../shared/schemas/rates.js';
import { mutationProcedure, queryProcedure } from '../procedures.js';
import { router } from '../trpc.js';
import { toPage } from '../pagination/to-page.js';
import { toPayment } from '../repos/to-payment.js';
import type { Services } from '../services.js';

// Rates fill `amountInBase`; without them the answer is partial, not an error.
async function ratesOrNull(services: Services): Promise<Rates | null> {
  try {
    return (await services.rates.latest()).rates;
  } catch {
    return null;
  }
}

export const paymentsRouter = router({
  list: queryProcedure
    .meta({
      cacheTtlMs: 30_000,
      cacheTags: ['payments'],
      rest: { method: 'GET', path: '/api/payments', tag: 'payments', summary: 'One page of the tenant\'s payments, oldest first, optionally of one user' },
    })
    .input(listPaymentsInputSchema)
    .output(paymentsPageSchema)
    .query(async ({ ctx, input }) => {
      const { payments, cursors } = ctx.services;
      const scope = `payments.list|${ctx.auth.tenantId}|user=${input.userId ?? '*'}`;
      const afterId = cursors.decode(scope, input.cursor);
      const [rows, rates] = await Promise.all([
        payments.page(ctx.auth.tenantId, afterId, input.limit + 1, input.userId),
        ratesOrNull(ctx.services),
      ]);
      const page = toPage(rows, input.limit, (row) => cursors.encode(scope, row.id), (row) => toPayment(row, rates));
      return rates ? page : { ...page, degraded: ['rates' as const] };
    }),

  create: mutationProcedure
    .meta({
      idempotency: 'required',
      rest: { method: 'POST', path: '/api/payments', tag: 'payments', status: 201, summary: 'Creates a payment; an Idempotency-Key is required' },
    })
    .input(createPaymentInputSchema)
    .output(paymentSchema)
    .mutation(async ({ ctx, input }) => {
      const { tenantId } = ctx.auth;
      const rates = await ratesOrNull(ctx.services);
      // The check runs in the write's transaction: the user cannot vanish between it and the insert.
      const payment = await ctx.commit(paymentSchema, async (tx) => {
        if (!(await tx.users.byId(tenantId, input.userId))) {
          throw new TRPCError({ code: 'NOT_FOUND', message: `No user ${input.userId} in this tenant.` });
        }
        return toPayment(await tx.payments.insert({ tenantId, ...input }), rates);
      });
      ctx.services.bus.publish({ type: 'payment.created', tenantId, id: payment.id, userId: payment.userId });
      return payment;
    }),
});
