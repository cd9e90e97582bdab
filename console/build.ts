// Builds the console with Vite into console/dist. `--if-stale` (what `npm run
// dev` passes) skips the build when no source is newer than the last one, so
// a restart costs nothing; the node:http layer serves the files (server/http/dev-console.ts).
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONSOLE = join(ROOT, 'console');
const BUILT = join(CONSOLE, 'dist/index.html');
// The console's own files and what it bundles from the client and shared/.
const SOURCES = [join(CONSOLE, 'index.html'), join(CONSOLE, 'vite.config.ts'), join(CONSOLE, 'src'), join(ROOT, 'client'), join(ROOT, 'shared')];
const SKIP = new Set(['dist', '.types', 'node_modules', 'scripts']);

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (!SKIP.has(entry)) newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Whether console/dist is missing or older than a file it is built from. */
export function consoleIsStale(): boolean {
  if (!existsSync(BUILT)) return true;
  const built = statSync(BUILT).mtimeMs;
  return SOURCES.some((source) => existsSync(source) && newestMtime(source) > built);
}

/**
 * Builds console/dist with the console's vite.config.ts. The build goes to a
 * folder of its own and is then swapped in, so a server (or a second test
 * process building at the same time) never serves a half-written folder.
 */
export async function buildConsole(): Promise<void> {
  const dist = join(CONSOLE, 'dist');
  const fresh = join(CONSOLE, `.dist-${process.pid}-${Date.now()}`);
  // React's production build, whatever NODE_ENV the caller runs under (npm run dev sets development for the server).
  const callerEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(CONSOLE, 'vite.config.ts'), build: { outDir: fresh, emptyOutDir: true } });
    const old = `${fresh}-old`;
    try {
      if (existsSync(dist)) renameSync(dist, old);
      renameSync(fresh, dist);
    } catch (error) {
      // Another build swapped its folder in between: the same sources, so its files will do.
      if (!existsSync(dist)) throw error;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    if (callerEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = callerEnv;
    rmSync(fresh, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--if-stale') && !consoleIsStale()) process.exit(0);
  const started = performance.now();
  await buildConsole();
  process.stdout.write(`Console built into console/dist in ${Math.round(performance.now() - started)} ms\n`);
}
