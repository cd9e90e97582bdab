import { afterEach, describe, expect, it } from 'vitest';
import { ratesSchema } from '../../../shared/schemas/rates.js';
import { startRatesSimulator, type RatesSimulator } from '../../../server/downstream/rates-simulator.js';

let sim: RatesSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('rates simulator', () => {
  it('answers GET /rates?base=USD with a body the provider schema accepts', async () => {
    sim = await startRatesSimulator();
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rates$/);
    const res = await fetch(`${sim.url}?base=USD`);
    expect(res.status).toBe(200);
    const rates = ratesSchema.parse(await res.json());
    expect(rates.base).toBe('USD');
    expect(Object.keys(rates.rates)).toEqual(expect.arrayContaining(['EUR', 'GBP', 'JPY', 'CHF', 'CAD']));
    expect(rates.rates.EUR).toBeCloseTo(0.92, 2);
    expect(sim.calls).toBe(1);
  });

  it('refuses a base other than USD', async () => {
    sim = await startRatesSimulator();
    expect((await fetch(`${sim.url}?base=EUR`)).status).toBe(400);
  });

  it('answers 500 in error mode and counts the call', async () => {
    sim = await startRatesSimulator({ mode: 'error' });
    expect((await fetch(`${sim.url}?base=USD`)).status).toBe(500);
    expect(sim.calls).toBe(1);
  });

  it('delays the answer by slowMs in slow mode', async () => {
    sim = await startRatesSimulator({ mode: 'slow', slowMs: 150 });
    const started = performance.now();
    const res = await fetch(`${sim.url}?base=USD`);
    expect(res.status).toBe(200);
    // Timers may fire a millisecond early relative to performance.now().
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('never answers in hang mode, yet close() ends at once', async () => {
    sim = await startRatesSimulator({ mode: 'hang' });
    const pending = fetch(`${sim.url}?base=USD`).then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor(() => sim?.calls === 1);
    const raced = await Promise.race([pending, sleep(100).then(() => 'still waiting')]);
    expect(raced).toBe('still waiting');
    await sim.close();
    expect(await pending).toBe('failed');
  });

  it('reads the mode with GET /mode and switches it with POST /mode', async () => {
    sim = await startRatesSimulator();
    expect(sim.controlUrl).toBe(sim.url.replace(/\/rates$/, '/mode'));
    expect(await (await fetch(sim.controlUrl)).json()).toEqual({ mode: 'ok' });

    const text = await fetch(sim.controlUrl, { method: 'POST', body: 'hang\n' });
    expect(await text.json()).toEqual({ mode: 'hang' });
    expect(sim.mode).toBe('hang');

    const json = await fetch(sim.controlUrl, { method: 'POST', body: JSON.stringify({ mode: 'error' }) });
    expect(json.status).toBe(200);
    expect(sim.mode).toBe('error');
    expect(sim.calls).toBe(0);
  });

  it('rejects an unknown mode with 400 and keeps the current one', async () => {
    sim = await startRatesSimulator({ mode: 'slow' });
    const res = await fetch(sim.controlUrl, { method: 'POST', body: 'sideways' });
    expect(res.status).toBe(400);
    expect(sim.mode).toBe('slow');
  });

  it('lists the allowed methods on a 405', async () => {
    sim = await startRatesSimulator();
    const res = await fetch(sim.url, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  it('setMode switches the mode in process', async () => {
    sim = await startRatesSimulator();
    sim.setMode('error');
    expect((await fetch(`${sim.url}?base=USD`)).status).toBe(500);
    sim.setMode('ok');
    expect((await fetch(`${sim.url}?base=USD`)).status).toBe(200);
    expect(sim.calls).toBe(2);
  });

  it('throws on bad options when started', async () => {
    await expect(startRatesSimulator({ port: -1 })).rejects.toThrow(/port/);
    await expect(startRatesSimulator({ slowMs: Number.NaN })).rejects.toThrow(/slowMs/);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
