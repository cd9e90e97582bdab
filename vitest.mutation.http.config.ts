import { defineConfig } from 'vitest/config';

// The tests `npm run test:mutation:http` runs against each mutant of the HTTP
// fast paths and the client's links: only the files written for those
// modules. Every request of every HTTP test passes through the fast paths,
// so with the whole of test/http each of their mutants would rerun hundreds
// of tests (a first attempt projected about 9 hours); these few files pin
// what the fast paths and links promise. See BENCHMARKS.md "Mutation score".
export default defineConfig({
  test: {
    include: [
      'test/http/{lean-path,lean-batch,cache,cache-fast-path-memo}.test.ts',
      'test/client/{retry,retry-link,pacing,pacing-cancel,pacer,adaptive-throttle,create-client}.test.ts',
    ],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
