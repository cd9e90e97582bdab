// Builds the composure-client package into client/dist: one ES module per
// entry (shared/ code bundled in, every package import left to npm), and one
// declaration file per entry with the router's type inlined, so a consumer
// gets full inference without the server's code or its dependencies.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDtsBundle } from 'dts-bundle-generator';
import { build } from 'esbuild';

const CLIENT = fileURLToPath(new URL('..', import.meta.url));
const DIST = `${CLIENT}dist`;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRIES = { index: `${CLIENT}index.ts`, react: `${CLIENT}react.tsx` };
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const manifest = JSON.parse(readFileSync(`${CLIENT}package.json`, 'utf8')) as { dependencies: object; peerDependencies: object };
// What the package's declarations may import: its own dependencies and peers (and their subpaths).
const ALLOWED_TYPE_IMPORTS = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);

rmSync(DIST, { recursive: true, force: true });

const result = await build({
  entryPoints: ENTRIES,
  outdir: DIST,
  bundle: true,
  // The react entry reuses the client's chunk instead of a second copy of it.
  splitting: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  jsx: 'automatic',
  packages: 'external',
  metafile: true,
  logLevel: 'warning',
});
// The router is imported for its type only: a server file in the bundle is a mistake.
const serverFiles = Object.keys(result.metafile.inputs).filter((path) => /(^|\/)server\//.test(path));
if (serverFiles.length > 0) throw new Error(`server code reached the client bundle: ${serverFiles.join(', ')}`);

// Declarations: tsc emits them for the client and everything it names, the
// router's files included. The router's `ctx` is the server's per-request
// context (database, Redis, logger...), which a client never sees: its
// declaration becomes an empty interface, so the package's types name none of
// the server's libraries. The bundler then inlines every file of ours.
// Inside the package, so that the emitted files resolve @trpc/* from node_modules as the sources do.
const TYPES = `${CLIENT}.types`;
rmSync(TYPES, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [TSC, '-p', `${CLIENT}tsconfig.build.json`, '--outDir', TYPES, '--rootDir', ROOT], { stdio: 'inherit' });
  writeFileSync(join(TYPES, 'server/context.d.ts'), '/** The server\'s per-request context: opaque to a client. */\nexport interface Context {}\n');
  const files = Object.keys(ENTRIES).map((name) => join(TYPES, 'client', `${name}.d.ts`));
  const options = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: true, types: [] };
  writeFileSync(join(TYPES, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files }));
  const bundles = generateDtsBundle(
    files.map((filePath) => ({ filePath, output: { noBanner: true } })),
    { preferredConfigPath: join(TYPES, 'tsconfig.json') },
  );
  for (const [i, name] of Object.keys(ENTRIES).entries()) {
    const text = bundles[i] ?? '';
    const imported = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom '([^']+)'|\bimport\("([^"]+)"\)/gm)].map((m) => m[1] ?? m[2] ?? '');
    const foreign = imported.filter((m) => !ALLOWED_TYPE_IMPORTS.has(m.startsWith('@') ? m.split('/').slice(0, 2).join('/') : (m.split('/')[0] ?? '')));
    if (foreign.length > 0) throw new Error(`${name}.d.ts imports ${foreign.join(', ')}: not a dependency of composure-client`);
    writeFileSync(join(DIST, `${name}.d.ts`), text);
  }
} finally {
  rmSync(TYPES, { recursive: true, force: true });
}
