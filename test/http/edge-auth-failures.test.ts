import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(() => Promise.all(servers.splice(0).map((s) => s.close())));
async function start(env: Record<string, string>): Promise<TestServer> {
  const server = await startTestServer({ NODE_ENV: 'production', SEED: 'true', AUTH_FAILURE_PER_SECOND: '0.01', ...env });
  servers.push(server);
  return server;
}

/** The status of a users.list call with `key`, sent as if forwarded for `forwardedFor`. */
async function statusFor(server: TestServer, key: string, forwardedFor?: string): Promise<number> {
  const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
  return (await server.call('users.list', { key, headers })).status;
}

describe('failed authentication limits', () => {
  it('never refuse a valid key, even from an address whose failure budget is spent', async () => {
    const server = await start({ AUTH_FAILURE_BURST: '3' });
    const guesses: number[] = [];
    for (let i = 0; i < 5; i++) guesses.push(await statusFor(server, `guess-${i}`));
    expect(guesses).toEqual([401, 401, 401, 429, 429]);
    expect(await statusFor(server, 'demo-alice')).toBe(200);
    expect(await statusFor(server, 'demo-bob')).toBe(200);
    // And the valid calls did not refill or reset the address's budget.
    expect(await statusFor(server, 'guess-5')).toBe(429);
  });

  it('believe no X-Forwarded-For without TRUST_PROXY: a client cannot pick a fresh budget per request', async () => {
    const server = await start({ AUTH_FAILURE_BURST: '2' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await statusFor(server, `guess-${i}`, `198.51.100.${i}`));
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('with TRUST_PROXY, count each forwarded client on its own, by the address the proxy saw', async () => {
    const server = await start({ AUTH_FAILURE_BURST: '2', TRUST_PROXY: '127.0.0.1' });
    // The proxy appends the peer it saw; whatever the client put before it is not believed.
    const fromA = [];
    for (let i = 0; i < 3; i++) fromA.push(await statusFor(server, `guess-${i}`, `10.0.0.${i}, 198.51.100.7`));
    expect(fromA).toEqual([401, 401, 429]);
    expect(await statusFor(server, 'guess-x', '198.51.100.8')).toBe(401);
    expect(await statusFor(server, 'demo-alice', '198.51.100.7')).toBe(200);
  });

  it('count an IPv6 client by its /64', async () => {
    const server = await start({ AUTH_FAILURE_BURST: '2', TRUST_PROXY: '127.0.0.1' });
    expect(await statusFor(server, 'guess-1', '2001:db8:1:2::1')).toBe(401);
    expect(await statusFor(server, 'guess-2', '2001:db8:1:2:ffff::9')).toBe(401);
    expect(await statusFor(server, 'guess-3', '2001:db8:1:2:abcd:1:2:3')).toBe(429);
    expect(await statusFor(server, 'guess-4', '2001:db8:1:3::1')).toBe(401);
  });

  it('share a global budget, so many addresses together cannot guess at full speed', async () => {
    const server = await start({ AUTH_FAILURE_BURST: '10', AUTH_FAILURE_GLOBAL_BURST: '4', AUTH_FAILURE_GLOBAL_PER_SECOND: '0.01', TRUST_PROXY: '127.0.0.1' });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await statusFor(server, `guess-${i}`, `203.0.113.${i}`));
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const refused = await server.call('users.list', { key: 'guess-7', headers: { 'x-forwarded-for': '203.0.113.99' } });
    expect(refused.body.error?.message).toBe('Too many failed authentication attempts; retry later.');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await statusFor(server, 'demo-alice', '203.0.113.99')).toBe(200);
  });

  it('refuse a TRUST_PROXY entry that is not an address or range at start, naming the variable', async () => {
    await expect(start({ TRUST_PROXY: '127.0.0.1, not-an-address' })).rejects.toThrow(/TRUST_PROXY/);
  });
});
