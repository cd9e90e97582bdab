import { z } from 'zod';

/**
 * The largest `amountCents` one payment may carry: 1e11 cents, a billion in
 * the currency's major unit. A business maximum, so that no amount, no
 * conversion and no realistic total comes near 2^53, past which a JSON
 * number stops being exact in JavaScript.
 *
 * @example
 * ```ts
 * if (amountCents > MAX_AMOUNT_CENTS) throw new RangeError('split the payment');
 * ```
 */
export const MAX_AMOUNT_CENTS = 100_000_000_000;

/*
 * The codes the platform's ICU knows as currencies in use (Node 20: 162;
 * XYZ, test codes such as XTS and precious metals are not among them).
 * Intl rather than a copied table: the list is maintained with the runtime,
 * which already ships it. A runtime without `Intl.supportedValuesOf`
 * (browsers before 2022) checks the form only; the server always checks membership.
 */
const supported = typeof Intl.supportedValuesOf === 'function' ? new Set(Intl.supportedValuesOf('currency')) : null;

/**
 * Whether `code` is an ISO 4217 alphabetic code of a currency in use.
 *
 * @example
 * ```ts
 * isIsoCurrency('EUR'); // true
 * isIsoCurrency('XYZ'); // false
 * ```
 */
export function isIsoCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && (supported === null || supported.has(code));
}

/**
 * A currency a payment may be made in: an ISO 4217 code in use, upper case.
 *
 * @example
 * ```ts
 * currencySchema.parse('EUR'); // 'EUR'
 * currencySchema.parse('XYZ'); // throws: not an ISO 4217 currency
 * ```
 */
export const currencySchema = z.string().refine(isIsoCurrency, 'currency must be an ISO 4217 code in use, such as "EUR"');

/**
 * The currency of a stored payment, as read back: three upper-case letters.
 * Looser than `currencySchema` on purpose: a row written before codes were
 * checked against ISO 4217 must still be listed, not turn a page into a 500.
 *
 * @example
 * ```ts
 * storedCurrencySchema.parse('EUR'); // 'EUR'
 * ```
 */
export const storedCurrencySchema = z.string().regex(/^[A-Z]{3}$/);

/**
 * A total of cents, exact: a number while it is a safe integer (always, in
 * practice: 2^53−1 cents is 90 trillion in the major unit), else its decimal
 * digits as a string, since a larger JSON number would be read inexactly.
 *
 * @example
 * ```ts
 * const eur = BigInt(centsTotalSchema.parse(summary.totalsByCurrency.EUR ?? 0)); // exact either way
 * ```
 */
export const centsTotalSchema = z.union([z.number().int().nonnegative(), z.string().regex(/^[1-9]\d{15,}$/)]);
export type CentsTotal = z.infer<typeof centsTotalSchema>;
