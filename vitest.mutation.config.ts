import { defineConfig } from 'vitest/config';

// The tests `npm run test:mutation` runs against each mutant: the unit
// tests of the mutated modules, so that a mutant costs a second, not a
// minute. Tests over real HTTP servers cost seconds per mutant each (a
// server per file, re-run for every mutant they cover) and those in child
// processes run unmutated code: on two shared cores the run must stay
// within tens of minutes. See BENCHMARKS.md "Mutation score".
export default defineConfig({
  test: {
    include: [
      'test/server/{cache,idempotency,pagination,stores,http,events,auth}/**/*.test.ts',
      'test/client/{retry-timing,http-date}.test.ts',
      'test/shared/**/*.test.ts',
    ],
    // Instrumented code runs several times slower: the deep-nesting tests need minutes, not seconds.
    testTimeout: 180_000,
    hookTimeout: 30_000,
  },
});
