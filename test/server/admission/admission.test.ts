import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdmission, type Admission } from '../../../server/admission/index.js';
import { loadConfig } from '../../../server/config.js';

// Real node:http objects on unconnected sockets: what the HTTP layer hands the admission, without a server.
const sockets: Socket[] = [];
function request(socket: Socket) {
  const req = new IncomingMessage(socket);
  req.headers = { authorization: 'Bearer demo-alice' };
  return { req, res: new ServerResponse(req) };
}
function connection() {
  const socket = new Socket();
  sockets.push(socket);
  return socket;
}

/** Keeps the event loop's turn going for `ms`, as synchronous work does. */
function busyFor(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

let admission: Admission | undefined;
afterEach(() => {
  admission?.close();
  for (const socket of sockets.splice(0)) socket.destroy();
});

describe('createAdmission in a long event-loop turn', () => {
  it("carries the next request of a connection it served in this turn, and refuses one that may have waited since the turn began", async () => {
    admission = createAdmission({ config: loadConfig({ ADMISSION_LIMIT: '1', ADMISSION_QUEUE_TIMEOUT_MS: '100' }), tenantOf: () => 'alice' });
    const served = connection();
    const first = request(served);
    expect(admission.admit(first.req, first.res)).toBe(true);
    first.res.emit('close');
    // All in one turn: the turn has run past half the queue timeout and started its limit.
    busyFor(60);
    const other = request(connection());
    expect(admission.admit(other.req, other.res)).toBe(false);
    // The served connection's next request came in after its answer: carried to the turn's end, then started.
    const next = request(served);
    const admitted = admission.admit(next.req, next.res);
    expect(admitted).toBeInstanceOf(Promise);
    await expect(admitted).resolves.toBe(true);
    expect(admission.shedTotals().get('alice')).toEqual({ queue_full: 0, queue_timeout: 1 });
  });
});
