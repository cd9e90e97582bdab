import { z } from 'zod';

// ISO 4217 alphabetic codes are three uppercase letters; we check the form,
// not membership, so a provider may add currencies without a release.
const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "EUR"');

/**
 * Input of `rates.latest`. Only `USD` is offered as a base today; the field
 * exists so that other bases can be added without breaking callers, and it
 * defaults so `{}` is a valid input. The object is deliberately not strict:
 * TanStack Query and other tools may add keys of their own.
 *
 * @example
 * ```ts
 * ratesInputSchema.parse({}); // { base: 'USD' }
 * ratesInputSchema.parse({ base: 'EUR' }); // throws: only 'USD' is accepted
 * ```
 */
export const ratesInputSchema = z.object({
  base: z.literal('USD').default('USD'),
});

/**
 * Exchange rates against `base`: one unit of `base` buys `rates[code]` units
 * of `code`. This is both the provider's wire format (`GET ${RATES_URL}?base=USD`)
 * and the output of `rates.latest`; anything that does not parse is treated
 * as a failed provider call. `asOf` is an ISO-8601 date-time (UTC `Z` or an
 * offset) saying when the provider computed the rates.
 *
 * @example
 * ```ts
 * const rates = ratesSchema.parse({
 *   base: 'USD',
 *   rates: { EUR: 0.92, JPY: 151.3 },
 *   asOf: '2025-01-31T12:00:00.000Z',
 * });
 * rates.rates.EUR; // number | undefined
 * ```
 */
export const ratesSchema = z.object({
  base: currencyCode,
  // zod 4's z.number() already rejects NaN and ±Infinity.
  rates: z.record(currencyCode, z.number().positive()),
  asOf: z.iso.datetime({ offset: true }),
});

/**
 * A validated set of exchange rates, as returned by `rates.latest`.
 *
 * @example
 * ```ts
 * import type { Rates } from 'composure/shared';
 * const eurPerUsd = (r: Rates): number | undefined => r.rates.EUR;
 * ```
 */
export type Rates = z.infer<typeof ratesSchema>;
