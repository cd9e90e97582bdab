import { z } from 'zod';
import { pageInputSchema, pageSchema } from './pagination.js';
import { MAX_AMOUNT_CENTS, currencySchema, storedCurrencySchema } from './money.js';

/**
 * A payment. `amountInBase` is the amount in USD cents converted with the
 * latest rates, or null when no rates could be had (see `degraded`).
 *
 * @example
 * ```ts
 * const p: Payment = paymentSchema.parse(data);
 * ```
 */
export const paymentSchema = z.object({
  id: z.number().int().positive(),
  userId: z.number().int().positive(),
  amountCents: z.number().int().positive(),
  currency: storedCurrencySchema,
  amountInBase: z.number().int().nullable(),
  createdAt: z.string(),
});
export type Payment = z.infer<typeof paymentSchema>;

/**
 * Input of `payments.create`: `amountCents` a positive integer up to
 * `MAX_AMOUNT_CENTS` (1e11), `currency` an ISO 4217 code in use. Send it
 * with an `Idempotency-Key` header.
 *
 * @example
 * ```ts
 * createPaymentInputSchema.parse({ userId: 1, amountCents: 1999, currency: 'EUR' });
 * ```
 */
export const createPaymentInputSchema = z.object({
  userId: z.number().int().positive(),
  amountCents: z.number().int().positive().max(MAX_AMOUNT_CENTS),
  currency: currencySchema,
});
export type CreatePaymentInput = z.input<typeof createPaymentInputSchema>;

/**
 * Input of `payments.list`: the page input plus an optional `userId` filter.
 * A cursor is bound to the filter it was made with.
 *
 * @example
 * ```ts
 * listPaymentsInputSchema.parse({ limit: 20, userId: 7 });
 * ```
 */
export const listPaymentsInputSchema = pageInputSchema
  .extend({ userId: z.number().int().positive().optional() })
  .prefault({});
export type ListPaymentsInput = z.input<typeof listPaymentsInputSchema>;

/**
 * Names of the parts of an answer that could not be had; the answer is
 * partial, not an error.
 *
 * @example
 * ```ts
 * if (page.degraded?.includes('rates')) showRatesWarning();
 * ```
 */
export const degradedSchema = z.array(z.enum(['rates']));

/**
 * One page of payments, with `degraded: ["rates"]` when `amountInBase` could
 * not be filled.
 *
 * @example
 * ```ts
 * const page = paymentsPageSchema.parse(body.result.data);
 * ```
 */
export const paymentsPageSchema = pageSchema(paymentSchema).extend({
  degraded: degradedSchema.optional(),
});
export type PaymentsPage = z.infer<typeof paymentsPageSchema>;
