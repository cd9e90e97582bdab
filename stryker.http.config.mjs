// `npm run test:mutation:http`: mutation testing of the modules whose tests
// run over real HTTP servers (the node:http fast paths, the client's links),
// kept apart from stryker.config.mjs so that its unit-test run stays quick and
// this one runs only the test files written for these modules
// (vitest.mutation.http.config.ts). Run one module at a time with
// `npm run test:mutation:http -- --mutate <file>`: each mutant restarts the
// test servers of the files that cover it.
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { configFile: 'vitest.mutation.http.config.ts', related: true },
  mutate: [
    'server/http/{cache-fast-path,charge-cache-hit,lean-path,lean-batch}.ts',
    'client/links/{idempotency,retry-after,adaptive-throttle,pacing}.ts',
    'client/links/internals/pacer.ts',
  ],
  incrementalFile: 'reports/mutation/http/incremental.json',
  htmlReporter: { fileName: 'reports/mutation/http/index.html' },
  jsonReporter: { fileName: 'reports/mutation/http/mutation.json' },
  // Each run starts servers; a mutant that hangs one is a timeout, not a survivor.
  timeoutMS: 30_000,
};
