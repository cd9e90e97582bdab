import type { IncomingMessage } from 'node:http';
import { isSimulatorMode, parseSimulatorMode, simulatorModes, type RatesSimulator } from '../../downstream/rates-simulator.js';
import { sendJson } from '../send-json.js';
import { onlyMethods, type Route } from './only-methods.js';

const MAX_BODY = 1024;

/** The body as text, or null past MAX_BODY (the answer then closes the connection rather than read on). */
async function smallBody(req: IncomingMessage): Promise<string | null> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `GET /simulator/mode` reads and `POST /simulator/mode` (body `hang`, or
 * `{"mode":"hang"}`) switches the built-in rates simulator's mode, on the
 * API's own origin: whatever port the simulator got, the way to drive it
 * is the same. Mounted in development only.
 */
export function simulatorControl(simulator: RatesSimulator): Route {
  return onlyMethods(['GET', 'POST'], async (req, res) => {
    res.setHeader('cache-control', 'no-store');
    if (req.method === 'GET') return sendJson(res, 200, { mode: simulator.mode });
    const body = await smallBody(req);
    if (body === null) {
      res.setHeader('connection', 'close');
      return sendJson(res, 413, { error: { message: `Body larger than ${MAX_BODY} bytes`, code: 'PAYLOAD_TOO_LARGE' } });
    }
    const mode = parseSimulatorMode(body);
    if (!isSimulatorMode(mode)) {
      return sendJson(res, 400, { error: { message: `mode must be one of ${simulatorModes.join(', ')}`, code: 'BAD_REQUEST' } });
    }
    simulator.setMode(mode);
    sendJson(res, 200, { mode });
  });
}
