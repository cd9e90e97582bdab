import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.js';
import { sendJson } from '../send-json.js';
import type { Route } from './only-methods.js';

/**
 * Who may read `/metrics`: anyone in development; elsewhere only a caller
 * with `Authorization: Bearer $METRICS_TOKEN`, and without METRICS_TOKEN
 * nobody: the route answers as if it did not exist (404), so an open
 * deployment does not even show that it has one.
 */
export function metricsAccess(config: Pick<Config, 'NODE_ENV' | 'METRICS_TOKEN'>, route: Route): Route {
  if (config.NODE_ENV === 'development') return route;
  const token = config.METRICS_TOKEN;
  if (token === undefined) {
    return (req, res) => sendJson(res, 404, { error: { message: `No route ${req.method} /metrics`, code: 'NOT_FOUND' } });
  }
  const expected = Buffer.from(`Bearer ${token}`);
  return (req, res) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    // Constant time, so the answer's timing does not tell how much of a guess was right.
    if (given.length === expected.length && timingSafeEqual(given, expected)) return route(req, res);
    res.setHeader('www-authenticate', 'Bearer realm="metrics"');
    res.setHeader('cache-control', 'no-store');
    sendJson(res, 401, { error: { message: 'Send Authorization: Bearer <METRICS_TOKEN>.', code: 'UNAUTHORIZED' } });
  };
}
