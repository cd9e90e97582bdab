import { once } from 'node:events';
import { rawLoad, type RawLoadOptions } from '../../../bench/support/raw-load.js';

/*
 * A flood in its own process: `node --import tsx flood.ts '<RawLoadOptions as JSON>'`.
 * Hundreds of connections driven from the test's own worker would take the
 * core the test needs to time the small tenant's requests honestly; here
 * they cost a process of their own, on raw sockets (bench/support/raw-load.ts).
 * Prints `ready` once every connection is open and seen accepted, waits for
 * a line on stdin, prints `started` as the first requests go out, then the
 * result as JSON.
 */
const opts = JSON.parse(process.argv[2] ?? '{}') as RawLoadOptions;
const result = await rawLoad({
  ...opts,
  ready: async () => {
    process.stdout.write('ready\n');
    await once(process.stdin, 'data');
    process.stdin.pause();
  },
  onStart: () => process.stdout.write('started\n'),
});
process.stdout.write(`${JSON.stringify({ statuses: result.statuses, unclean: result.unclean, durationMs: result.durationMs })}\n`);
