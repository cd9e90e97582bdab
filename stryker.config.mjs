// `npm run test:mutation`: break one line of a promise-carrying module at a
// time and check that some test fails. Scoped to the modules behind the
// README's promises (idempotency, cursors, cache keys and invalidation,
// rate-limit stores, the HTTP fast paths, the client's links); incremental,
// so a rerun only tests mutants in changed code or under changed tests.
// The Redis store's tests skip without REDIS_URL, and its mutants would then
// all survive: default it as .ci/run does.
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'shared/cursor.ts',
    'server/pagination/cursor-codec.ts',
    'server/cache/{canonical-input,tag-index,etag}.ts',
    'server/stores/{memory-rate-limit,redis-rate-limit}.ts',
    'server/idempotency/{fingerprint,key-header,sqlite-store}.ts',
    'server/http/rate-limit-headers.ts',
    'client/internals/{retry-timing,http-date}.ts',
  ],
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants) need the whole suite per mutant.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  // Two shared cores: one worker keeps real servers from timing each other out.
  concurrency: 1,
  timeoutMS: 10_000,
  // The first run of every test, on two shared cores, takes minutes.
  dryRunTimeoutMinutes: 20,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 85, low: 70, break: null },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'data', 'bench/.tmp', 'reports', 'coverage'],
};
