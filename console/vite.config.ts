import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const from = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// The console is built from the client's sources under the package's own
// names, so it imports exactly what a user of composure-client imports.
export default defineConfig({
  root: from('.'),
  base: '/',
  resolve: {
    alias: [
      { find: /^composure-client\/react$/, replacement: from('../client/react.tsx') },
      { find: /^composure-client$/, replacement: from('../client/index.ts') },
    ],
  },
  build: {
    outDir: from('dist'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      // TanStack Query's "use client" markers mean nothing outside React Server Components.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
