import { defineConfig } from 'vitest/config';

// The tests `npm run test:mutation` runs against each mutant: the in-process
// tests of the mutated modules, chosen so that a mutant costs seconds, not
// minutes. Left out: tests that start the server in a child process (crash,
// reliability, multi-instance: they run unmutated code and can kill
// nothing), the property walks and concurrency storms (tens of seconds a
// run), the lean-path parity suite (sixty requests to pairs of servers) and
// suites of modules outside the scope.
export default defineConfig({
  test: {
    include: [
      'test/server/{cache,idempotency,pagination,stores,http,events,auth}/**/*.test.ts',
      'test/http/idempotency.test.ts',
      'test/client/{retry,retry-timing,http-date,errors,create-client}.test.ts',
    ],
    // Instrumented code runs several times slower: the deep-nesting tests need minutes, not seconds.
    testTimeout: 180_000,
    hookTimeout: 30_000,
  },
});
