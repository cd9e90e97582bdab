import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';

describe('graceful shutdown', () => {
  it('finishes an in-flight request before closing the database', async () => {
    const server = await startTestServer({ RATES_TIMEOUT_MS: '5000' });
    server.services.simulator?.setMode('slow');
    const before = server.services.simulator?.calls ?? 0;
    const inFlight = server.call('rates.latest', { input: { base: 'USD' } });
    // Close only once the request is inside its handler (the provider has been asked), not after a guessed sleep:
    // on a loaded machine 150 ms was sometimes not enough for the request to have been read at all.
    const deadline = Date.now() + 10_000;
    while ((server.services.simulator?.calls ?? 0) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(server.services.simulator?.calls).toBeGreaterThan(before);
    const closed = server.close();
    const res = await inFlight;
    await closed;
    expect(res.status).toBe(200);
    await expect(server.services.database.ping()).rejects.toThrow();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
