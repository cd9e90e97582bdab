import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Rates } from '../../../shared/schemas/rates.js';
import { createRatesProvider, isBrokenCircuitError } from '../../../server/downstream/rates-provider.js';
import {
  RatesUnavailableError,
  convertToBase,
  createRatesService,
  isRatesUnavailableError,
} from '../../../server/downstream/rates-service.js';
import { startRatesSimulator, type RatesSimulator } from '../../../server/downstream/rates-simulator.js';

const sample: Rates = { base: 'USD', rates: { EUR: 0.8, JPY: 150 }, asOf: '2025-01-31T12:00:00.000Z' };

/** A provider stub on a manual clock: no network, so the cache logic is tested alone. */
function stubbed(opts: { ttlMs?: number; staleMs?: number; msUntilHalfOpen?: number } = {}) {
  let clock = 1_000_000;
  let outcome: () => Promise<Rates> = () => Promise.resolve(sample);
  const fetchRates = vi.fn(() => outcome());
  const service = createRatesService({
    provider: { fetchRates, msUntilHalfOpen: () => opts.msUntilHalfOpen ?? 0 },
    ttlMs: opts.ttlMs ?? 30_000,
    staleMs: opts.staleMs ?? 3_600_000,
    now: () => clock,
  });
  return {
    service,
    fetchRates,
    advance: (ms: number) => void (clock += ms),
    failWith: (e: unknown) => void (outcome = () => Promise.reject(e)),
    succeed: () => void (outcome = () => Promise.resolve(sample)),
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('rates service, cache logic', () => {
  it('serves a fresh answer within ttlMs without calling the provider', async () => {
    const s = stubbed({ ttlMs: 30_000 });
    expect(await s.service.latest()).toEqual({ rates: sample, freshness: 'fresh', ageMs: 0, storedAt: 1_000_000, ttlMs: 30_000 });
    s.advance(29_999);
    expect(await s.service.latest()).toMatchObject({ freshness: 'fresh', ageMs: 29_999 });
    expect(s.fetchRates).toHaveBeenCalledTimes(1);
    s.advance(1);
    expect(await s.service.latest()).toMatchObject({ freshness: 'fresh', ageMs: 0, storedAt: 1_030_000 });
    expect(s.fetchRates).toHaveBeenCalledTimes(2);
  });

  it('makes one provider call for concurrent refreshes', async () => {
    const s = stubbed();
    let release = (): void => undefined;
    s.fetchRates.mockImplementationOnce(() => new Promise<Rates>((resolve) => (release = () => resolve(sample))));
    const answers = Promise.all(Array.from({ length: 100 }, () => s.service.latest()));
    release();
    expect((await answers).every((a) => a.freshness === 'fresh')).toBe(true);
    expect(s.fetchRates).toHaveBeenCalledTimes(1);
  });

  it('serves the last good answer as stale when the provider fails', async () => {
    const s = stubbed({ ttlMs: 1000, staleMs: 60_000 });
    await s.service.latest();
    s.advance(5000);
    s.failWith(new Error('provider down'));
    expect(await s.service.latest()).toMatchObject({ rates: sample, freshness: 'stale', ageMs: 5000, storedAt: 1_000_000 });
    // Stale answers are not cached as fresh: the next call tries the provider again.
    await s.service.latest();
    expect(s.fetchRates).toHaveBeenCalledTimes(3);
  });

  it('throws RatesUnavailableError once the last good answer is older than staleMs', async () => {
    const s = stubbed({ ttlMs: 1000, staleMs: 60_000, msUntilHalfOpen: 7_500 });
    await s.service.latest();
    s.advance(60_000);
    const cause = new Error('provider down');
    s.failWith(cause);
    const e = await rejection(s.service.latest());
    expect(e).toBeInstanceOf(RatesUnavailableError);
    expect(isRatesUnavailableError(e) && e.retryAfterMs).toBe(7_500);
    expect((e as Error).cause).toBe(cause);
    expect(s.service.peek()).toBeNull();
  });

  it('asks to retry after at least a second when the breaker is not open', async () => {
    const s = stubbed({ msUntilHalfOpen: 0 });
    s.failWith(new Error('provider down'));
    const e = await rejection(s.service.latest());
    expect(isRatesUnavailableError(e) && e.retryAfterMs).toBe(1000);
    expect((e as Error).name).toBe('RatesUnavailableError');
  });

  it('peek returns the last good rates without calling the provider', async () => {
    const s = stubbed({ staleMs: 10_000 });
    expect(s.service.peek()).toBeNull();
    await s.service.latest();
    s.advance(9_999);
    expect(s.service.peek()).toEqual(sample);
    s.advance(1);
    expect(s.service.peek()).toBeNull();
    expect(s.fetchRates).toHaveBeenCalledTimes(1);
  });

  it('convert uses the peeked rates and gives null without them', async () => {
    const s = stubbed();
    expect(s.service.convert(1000, 'EUR')).toBeNull();
    await s.service.latest();
    expect(s.service.convert(1000, 'EUR')).toBe(1250);
  });

  it('throws on a bad configuration when built', () => {
    const provider = { fetchRates: () => Promise.resolve(sample), msUntilHalfOpen: () => 0 };
    expect(() => createRatesService({ provider, ttlMs: -1, staleMs: 0 })).toThrow(/ttlMs/);
    expect(() => createRatesService({ provider, ttlMs: 0, staleMs: Number.NaN })).toThrow(/staleMs/);
  });
});

describe('convertToBase', () => {
  it('divides by the rate and rounds to whole cents', () => {
    expect(convertToBase(sample, 1000, 'EUR')).toBe(1250);
    expect(convertToBase(sample, 1, 'JPY')).toBe(0);
    expect(convertToBase(sample, 75, 'JPY')).toBe(1); // 0.5 rounds up
    expect(convertToBase(sample, -75, 'JPY')).toBe(-1); // and symmetrically down
  });

  it('converts the base currency at 1 and an unknown currency to null', () => {
    expect(convertToBase(sample, 1234, 'USD')).toBe(1234);
    expect(convertToBase(sample, 1234, 'XYZ')).toBeNull();
  });
});

describe('rates service against a real provider on loopback', () => {
  // Node 20 loads undici on the first fetch(), which can take longer than a short
  // timeout on a loaded machine; pay that once here, not inside a timed test.
  beforeAll(async () => {
    const warm = await startRatesSimulator();
    await (await fetch(warm.url)).arrayBuffer();
    await warm.close();
  });

  let sim: RatesSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  async function setup(opts: { timeoutMs: number; breakerFailures: number; halfOpenAfterMs: number }) {
    sim = await startRatesSimulator();
    const provider = createRatesProvider({ url: sim.url, ...opts });
    // ttlMs 0: every latest() goes to the provider, so each call exercises the failure path.
    const service = createRatesService({ provider, ttlMs: 0, staleMs: 60_000 });
    return { sim, provider, service };
  }

  it('answers stale within the timeout when the provider hangs, then instantly once the breaker opens', async () => {
    const timeoutMs = 500;
    const { sim, provider, service } = await setup({ timeoutMs, breakerFailures: 2, halfOpenAfterMs: 60_000 });
    const good = await service.latest();
    sim.setMode('hang');

    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const answer = await service.latest();
      expect(answer.freshness).toBe('stale');
      expect(answer.rates).toEqual(good.rates);
      expect(performance.now() - started).toBeLessThan(timeoutMs + 1000);
    }
    expect(provider.breakerState()).toBe('open');
    const callsWhenOpened = sim.calls;

    const started = performance.now();
    for (let i = 0; i < 10; i++) expect((await service.latest()).freshness).toBe('stale');
    expect(sim.calls).toBe(callsWhenOpened);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('recovers by itself through the half-open probe when the provider is back', async () => {
    const { sim, provider, service } = await setup({ timeoutMs: 2000, breakerFailures: 1, halfOpenAfterMs: 200 });
    await service.latest();
    sim.setMode('error');
    expect((await service.latest()).freshness).toBe('stale');
    expect(provider.breakerState()).toBe('open');
    sim.setMode('ok');
    expect((await service.latest()).freshness).toBe('stale'); // still open: the provider is not asked

    await vi.waitFor(() => expect(provider.msUntilHalfOpen()).toBe(0), { timeout: 2000, interval: 20 });
    const answer = await service.latest();
    expect(answer.freshness).toBe('fresh');
    expect(provider.breakerState()).toBe('closed');
  });

  it('throws RatesUnavailableError with the time until the probe when nothing stale exists', async () => {
    const { sim, provider, service } = await setup({ timeoutMs: 2000, breakerFailures: 2, halfOpenAfterMs: 5000 });
    sim.setMode('error');
    const first = await rejection(service.latest());
    expect(isRatesUnavailableError(first) && first.retryAfterMs).toBe(1000); // breaker still closed: the floor
    const opening = await rejection(service.latest());
    expect(isRatesUnavailableError(opening) && opening.retryAfterMs).toBeGreaterThan(4000);
    expect(provider.breakerState()).toBe('open');

    const e = await rejection(service.latest());
    expect(e).toBeInstanceOf(RatesUnavailableError);
    expect(isBrokenCircuitError((e as Error).cause)).toBe(true);
    const { retryAfterMs } = e as RatesUnavailableError;
    expect(retryAfterMs).toBeGreaterThan(4000);
    expect(retryAfterMs).toBeLessThanOrEqual(5000);
    expect(sim.calls).toBe(2);
  });
});
