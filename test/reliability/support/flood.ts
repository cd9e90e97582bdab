import { rawLoad, type RawLoadOptions } from '../../../bench/support/raw-load.js';

/*
 * A flood in its own process: `node --import tsx flood.ts '<RawLoadOptions as JSON>'`.
 * Hundreds of connections driven from the test's own worker would take the
 * core the test needs to time the small tenant's requests honestly; here
 * they cost a process of their own, on raw sockets (bench/support/raw-load.ts).
 * Prints `started` once every connection is open, then the result as JSON.
 */
const opts = JSON.parse(process.argv[2] ?? '{}') as RawLoadOptions;
const result = await rawLoad({ ...opts, onStart: () => process.stdout.write('started\n') });
process.stdout.write(`${JSON.stringify({ statuses: result.statuses, unclean: result.unclean, durationMs: result.durationMs })}\n`);
