import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createAuthGate } from '../../../server/auth/auth-gate.js';
import type { AuthInfo } from '../../../server/auth/authenticate.js';
import { createMemoryRateLimitStore } from '../../../server/stores/memory-rate-limit.js';

const info: AuthInfo = { tenantId: 1, apiKeyId: 1, plan: { name: 'default', burst: 10, perSecond: 1 } };
const fakeReq = () => ({ headers: {}, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
const fakeRes = () => ({ setHeader: () => undefined }) as unknown as ServerResponse;

describe('auth gate', () => {
  it('authenticates a request once even when a fast path and the middleware both ask', async () => {
    let lookups = 0;
    const gate = createAuthGate({
      authenticate: () => (lookups++, info),
      limiter: createMemoryRateLimitStore(),
      failurePlan: { name: 'auth-failures', burst: 3, perSecond: 1 },
      globalFailurePlan: { name: 'auth-failures-global', burst: 30, perSecond: 10 },
      addressOf: () => '127.0.0.1',
    });
    const req = fakeReq();
    expect(await gate(req, fakeRes())).toBe(info);
    expect(await gate(req, fakeRes())).toBe(info);
    expect(lookups).toBe(1);
    await gate(fakeReq(), fakeRes());
    expect(lookups).toBe(2);
  });
});
