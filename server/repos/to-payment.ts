import type { PaymentRow } from '../../drizzle/schema.js';
import type { Payment } from '../../shared/schemas/payments.js';
import type { Rates } from '../../shared/schemas/rates.js';

/**
 * Rates are quoted per 1 USD (`EUR: 0.92`), so an amount in another currency
 * is divided by its rate. Null when the rates are missing or lack the
 * currency: a partial answer, never a made-up number.
 */
export function amountInBase(amountCents: number, currency: string, rates: Rates | null): number | null {
  if (!rates) return null;
  if (currency === rates.base) return amountCents;
  const rate = rates.rates[currency];
  return rate ? Math.round(amountCents / rate) : null;
}

export function toPayment(row: PaymentRow, rates: Rates | null): Payment {
  return {
    id: row.id,
    userId: row.userId,
    amountCents: row.amountCents,
    currency: row.currency,
    amountInBase: amountInBase(row.amountCents, row.currency, rates),
    createdAt: new Date(row.createdAt).toISOString(),
  };
}
