import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BrokenCircuitError,
  createRatesProvider,
  isBrokenCircuitError,
  isRatesProviderError,
  type BreakerState,
  type RatesProviderOptions,
} from '../../../server/downstream/rates-provider.js';
import { startRatesSimulator, type RatesSimulator } from '../../../server/downstream/rates-simulator.js';

// Node 20 loads undici on the first fetch(), which can take longer than a short
// timeout on a loaded machine; pay that once here, not inside a timed test.
beforeAll(async () => {
  const warm = await startRatesSimulator();
  await (await fetch(warm.url)).arrayBuffer();
  await warm.close();
});

const disposers: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(disposers.splice(0).map((dispose) => dispose()));
});

async function simulator(mode: RatesSimulator['mode'] = 'ok'): Promise<RatesSimulator> {
  const sim = await startRatesSimulator({ mode, slowMs: 5000 });
  disposers.push(() => sim.close());
  return sim;
}

/** A one-route provider on loopback that records what it saw. */
async function fakeProvider(handler: RequestListener) {
  const seen = { calls: 0, aborted: 0, urls: [] as string[] };
  const server = createServer((req, res) => {
    seen.calls++;
    seen.urls.push(req.url ?? '');
    res.once('close', () => {
      if (!res.writableEnded) seen.aborted++;
    });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  disposers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/rates`, seen };
}

function provider(url: string, overrides: Partial<RatesProviderOptions> = {}) {
  // A long default timeout: only the tests about timeouts shorten it.
  return createRatesProvider({ url, timeoutMs: 2000, breakerFailures: 3, halfOpenAfterMs: 200, ...overrides });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('rates provider', () => {
  it('returns the validated rates and asks for base=USD', async () => {
    const sim = await simulator();
    const rates = await provider(sim.url).fetchRates();
    expect(rates.base).toBe('USD');
    expect(rates.rates.EUR).toBeGreaterThan(0);
    const fake = await fakeProvider((_req, res) => res.end(JSON.stringify(rates)));
    await provider(fake.url).fetchRates();
    expect(fake.seen.urls).toEqual(['/rates?base=USD']);
  });

  it('counts a non-2xx answer as a failed call', async () => {
    const sim = await simulator('error');
    const e = await failure(provider(sim.url).fetchRates());
    expect(isRatesProviderError(e) && e.reason).toBe('status');
  });

  it('counts malformed JSON as a failed call', async () => {
    const fake = await fakeProvider((_req, res) => res.end('{"base":"USD",'));
    const e = await failure(provider(fake.url).fetchRates());
    expect(isRatesProviderError(e) && e.reason).toBe('body');
  });

  it('counts a body of the wrong shape as a failed call', async () => {
    const bodies = [
      { base: 'USD', rates: { EUR: -1 }, asOf: new Date().toISOString() },
      { base: 'USD', rates: { EUR: 0.9 }, asOf: 'yesterday' },
      { base: 'EUR', rates: { USD: 1.1 }, asOf: new Date().toISOString() },
    ];
    const fake = await fakeProvider((_req, res) => res.end(JSON.stringify(bodies.shift())));
    const p = provider(fake.url, { breakerFailures: 10 });
    for (let i = 0; i < 3; i++) {
      const e = await failure(p.fetchRates());
      expect(isRatesProviderError(e) && e.reason).toBe('body');
    }
  });

  it('gives up after timeoutMs and aborts the request', async () => {
    const fake = await fakeProvider(() => undefined); // never answers
    const started = performance.now();
    const e = await failure(provider(fake.url, { timeoutMs: 150 }).fetchRates());
    const elapsed = performance.now() - started;
    expect(isRatesProviderError(e) && e.reason).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(150 + 1000);
    await vi.waitFor(() => expect(fake.seen.aborted).toBe(1));
  });

  it('reports a refused connection as a network failure', async () => {
    const fake = await fakeProvider((_req, res) => res.end());
    await disposers.pop()?.(); // nothing listens on that port any more
    const e = await failure(provider(fake.url).fetchRates());
    expect(isRatesProviderError(e) && e.reason).toBe('network');
  });

  it('opens after N consecutive failures and then stops calling the provider', async () => {
    const sim = await simulator('error');
    const p = provider(sim.url, { breakerFailures: 3, halfOpenAfterMs: 60_000 });
    for (let i = 0; i < 3; i++) expect(isRatesProviderError(await failure(p.fetchRates()))).toBe(true);
    expect(p.breakerState()).toBe('open');
    expect(sim.calls).toBe(3);

    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      const e = await failure(p.fetchRates());
      expect(isBrokenCircuitError(e)).toBe(true);
      expect(e).toBeInstanceOf(BrokenCircuitError);
      expect(isRatesProviderError(e)).toBe(false);
    }
    expect(sim.calls).toBe(3);
    // A behavioural bound, far above the microseconds it takes, for a noisy machine.
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('a success in between resets the consecutive count', async () => {
    const sim = await simulator('error');
    const p = provider(sim.url, { breakerFailures: 2 });
    await failure(p.fetchRates());
    sim.setMode('ok');
    await p.fetchRates();
    sim.setMode('error');
    await failure(p.fetchRates());
    expect(p.breakerState()).toBe('closed');
  });

  it('tells how long until the half-open probe', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sim = await simulator('error');
    const p = provider(sim.url, { breakerFailures: 1, halfOpenAfterMs: 5000 });
    expect(p.msUntilHalfOpen()).toBe(0);
    await failure(p.fetchRates());
    expect(p.msUntilHalfOpen()).toBe(5000);
    vi.setSystemTime(Date.now() + 1500);
    expect(p.msUntilHalfOpen()).toBe(3500);
    vi.setSystemTime(Date.now() + 4000);
    expect(p.msUntilHalfOpen()).toBe(0);
    expect(p.breakerState()).toBe('open'); // cockatiel only moves on at the next call
  });

  it('recovers through one half-open probe once the provider is back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sim = await simulator('error');
    const p = provider(sim.url, { breakerFailures: 2, halfOpenAfterMs: 200 });
    const states: BreakerState[] = [];
    p.onStateChange((s) => states.push(s));
    await failure(p.fetchRates());
    await failure(p.fetchRates());
    sim.setMode('ok');
    expect(isBrokenCircuitError(await failure(p.fetchRates()))).toBe(true);
    expect(sim.calls).toBe(2);

    vi.setSystemTime(Date.now() + 200);
    const rates = await p.fetchRates();
    expect(rates.base).toBe('USD');
    expect(sim.calls).toBe(3);
    expect(p.breakerState()).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('admits a single probe while half-open and reopens when it fails', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sim = await simulator('error');
    const p = provider(sim.url, { breakerFailures: 1, halfOpenAfterMs: 200, timeoutMs: 150 });
    await failure(p.fetchRates());
    sim.setMode('hang');
    vi.setSystemTime(Date.now() + 200);

    const outcomes = await Promise.all(Array.from({ length: 5 }, () => failure(p.fetchRates())));
    expect(sim.calls).toBe(2); // the opening failure and one probe
    expect(outcomes.filter((e) => isRatesProviderError(e) && e.reason === 'timeout')).toHaveLength(1);
    expect(outcomes.filter((e) => isBrokenCircuitError(e))).toHaveLength(4);
    expect(p.breakerState()).toBe('open');
    expect(p.msUntilHalfOpen()).toBe(200);
  });

  it('unsubscribes a state listener', async () => {
    const sim = await simulator('error');
    const p = provider(sim.url, { breakerFailures: 1 });
    const listener = vi.fn();
    p.onStateChange(listener)();
    await failure(p.fetchRates());
    expect(listener).not.toHaveBeenCalled();
  });

  it('throws on a bad configuration when built, naming the option', () => {
    expect(() => provider('not a url')).toThrow();
    expect(() => provider('http://127.0.0.1/rates', { timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => provider('http://127.0.0.1/rates', { breakerFailures: 0 })).toThrow(/breakerFailures/);
    expect(() => provider('http://127.0.0.1/rates', { halfOpenAfterMs: -1 })).toThrow(/halfOpenAfterMs/);
  });
});
