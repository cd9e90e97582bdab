import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';

describe('graceful shutdown', () => {
  it('finishes an in-flight request before closing the database', async () => {
    const server = await startTestServer({ RATES_TIMEOUT_MS: '5000' });
    server.services.simulator?.setMode('slow');
    const inFlight = server.call('rates.latest', { input: { base: 'USD' } });
    await new Promise((r) => setTimeout(r, 150));
    const closed = server.close();
    const res = await inFlight;
    await closed;
    expect(res.status).toBe(200);
    expect(server.services.sqlite.open).toBe(false);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
