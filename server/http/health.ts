import type { ServerResponse } from 'node:http';
import type { Services } from '../services.js';
import { sendJson } from './send-json.js';

export function healthz(res: ServerResponse): void {
  res.setHeader('cache-control', 'no-store');
  sendJson(res, 200, { status: 'ok' });
}

/** 200 when every hard dependency answers, else 503; the breaker's state is reported, not required. */
export async function readyz(res: ServerResponse, services: Services): Promise<void> {
  const checks: Record<string, string> = {};
  let status: 'ok' | 'degraded' | 'unavailable' = 'ok';
  try {
    await services.database.ping();
    checks.database = 'ok';
  } catch {
    checks.database = 'down';
    status = 'unavailable';
  }
  for (const [name, probe] of Object.entries(services.readiness)) {
    const state = await probe();
    checks[name] = state.status;
    // The instance still serves from local state; the 503 tells a load balancer it is not whole.
    if (state.required && state.status !== 'ok' && status === 'ok') status = 'degraded';
  }
  res.setHeader('cache-control', 'no-store');
  sendJson(res, status === 'ok' ? 200 : 503, {
    status,
    checks,
    breakers: { rates: services.ratesProvider.breakerState() },
  });
}
