/**
 * `node --import tsx bench/profile.ts <scenario> [seconds]`: one server under
 * one kind of load with `node --cpu-prof`, then where its CPU went: self
 * time by area (package or project file) and by function, and inclusive
 * time by function. Samples before the first HTTP request (start-up) are
 * left out. The profile itself stays in bench/.tmp/prof/<scenario>/ for a viewer.
 *
 *   scenarios: cache-hit, uncached, batch, create (Composure); hono-read, hono-create (the Hono peer)
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ServerProcess } from './support/spawn-server.js';
import { spawnComposure } from './support/composure.js';
import { ALICE, TMP, UNLIMITED_ENV, seededDatabase } from './support/fixtures.js';
import { load, type LoadOptions } from './support/load.js';
import { scenarios } from './support/scenarios.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const [name = '', seconds = '8'] = process.argv.slice(2);
const scenario = scenarios[name];
if (!scenario) throw new Error(`unknown scenario ${JSON.stringify(name)}; known: ${Object.keys(scenarios).join(', ')}`);

const dir = join(TMP, 'prof', name);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const db = seededDatabase('profile', 1000);
const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
const server: ServerProcess =
  scenario.server === 'hono'
    ? await spawnServer('bench/baselines/hono.ts', { DATABASE_URL: db, PORT: '0', ...UNLIMITED_ENV }, undefined, args)
    : await spawnComposure(
        db,
        { ADMISSION_MIN_LIMIT: '64', ADMISSION_MAX_LIMIT: '64', ...(scenario.server === 'uncached' ? { CACHE_ENABLED: 'false' } : {}) },
        args,
      );
const opts: LoadOptions = { headers: ALICE, server, ...scenario.load() };
if (scenario.warm) for (const path of scenario.warm) await fetch(server.url + path, { headers: ALICE });
const warm = await load(server.url, { ...opts, durationS: 1 });
const r = await load(server.url, { ...opts, durationS: Number(seconds) });
await server.stop();
console.log(`${name}: ${Math.round(r.rps)} req/s, ${r.cpuUsPerReq?.toFixed(0)} µs CPU per request, ${r.non2xx} non-2xx`);

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const area = (url: string): string => {
  if (url === '') return '(native / vm)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return pkg?.[1] ?? path;
};
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${area(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const self = new Map<string, number>();
const areas = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let started = false;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  const leaf = byId.get(id);
  if (!leaf) return;
  const stack: Node[] = [];
  for (let n: Node | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) stack.push(n);
  started ||= stack.some((n) => n.callFrame.functionName === 'parserOnHeadersComplete');
  const fn = leaf.callFrame.functionName;
  if (!started || fn === '(idle)' || fn === '(program)' || fn === '(root)') return;
  total += us;
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + us);
  add(self, label(leaf));
  add(areas, fn === '(garbage collector)' ? '(garbage collector)' : area(leaf.callFrame.url));
  for (const k of new Set(stack.map(label))) add(inclusive, k);
});

// Warm-up requests are in the profile too.
const requests = warm.rps * 1 + r.rps * Number(seconds);
const top = (m: Map<string, number>, count: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([k, us]) => ({ what: k, '%': ((100 * us) / total).toFixed(1), 'µs/req': (us / requests).toFixed(1) }));
console.log(`busy samples after the first request: ${(total / 1e6).toFixed(2)} s`);
console.log('self time by area');
console.table(top(areas, 20));
console.log('self time by function');
console.table(top(self, 30));
console.log('inclusive time by function');
console.table(top(inclusive, 40));
