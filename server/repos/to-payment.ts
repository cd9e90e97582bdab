import type { PaymentRow } from '../../drizzle/schema.js';
import type { Payment } from '../../shared/schemas/payments.js';
import type { Rates } from '../../shared/schemas/rates.js';
import { convertToBase } from '../downstream/rates-service.js';

/** `amountInBase` is null without rates: a partial answer, never a made-up number. */
export function toPayment(row: PaymentRow, rates: Rates | null): Payment {
  return {
    id: row.id,
    userId: row.userId,
    amountCents: row.amountCents,
    currency: row.currency,
    amountInBase: rates ? convertToBase(rates, row.amountCents, row.currency) : null,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}
