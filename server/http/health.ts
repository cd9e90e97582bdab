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
  let ready = true;
  try {
    services.sqlite.prepare('SELECT 1').get();
    checks.database = 'ok';
  } catch {
    checks.database = 'down';
    ready = false;
  }
  for (const [name, probe] of Object.entries(services.readiness)) {
    const state = await probe();
    checks[name] = state.status;
    if (state.required && state.status !== 'ok') ready = false;
  }
  res.setHeader('cache-control', 'no-store');
  sendJson(res, ready ? 200 : 503, {
    status: ready ? 'ok' : 'unavailable',
    checks,
    breakers: { rates: services.ratesProvider.breakerState() },
  });
}
