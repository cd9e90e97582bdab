import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllServers, startServer, type ServerProcess } from '../helpers/server-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BAD_INPUT = '/trpc/users.list?input=%7B%22limit%22%3A%22many%22%7D';

afterAll(killAllServers);

async function get(server: ServerProcess, path: string, key = 'demo-alice') {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, text: await res.text() };
}

describe('production by default', () => {
  it('a server started with NODE_ENV unset answers errors without a stack trace or a file path', async () => {
    const server = await startServer({ env: { NODE_ENV: undefined } });
    try {
      const res = await get(server, BAD_INPUT);
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('stack');
      expect(res.text).not.toContain(ROOT);
      expect(res.text).not.toMatch(/\.ts\b/);
    } finally {
      await server.stop();
    }
  });

  it('a production server on an empty database without SEED creates no demo key and says how to get them', async () => {
    const server = await startServer({ env: { NODE_ENV: undefined, SEED: undefined } });
    try {
      expect((await get(server, '/trpc/users.list')).status).toBe(401);
      const hint = server.problems.find((p) => p.line.includes('SEED=true'));
      expect(hint?.level).toBe(40);
      expect(hint?.line).toContain('empty');
    } finally {
      await server.stop();
    }
    expect(server.output()).not.toMatch(/demo-alice|demo-bob/);
  });

  it('a production server seeds the demo tenants only with SEED=true, and never logs their keys', async () => {
    const server = await startServer({ env: { NODE_ENV: undefined, SEED: 'true' } });
    try {
      expect((await get(server, '/trpc/users.list')).status).toBe(200);
      expect((await get(server, '/trpc/users.list', 'demo-bob')).status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(server.output()).toContain('seeded demo data');
    expect(server.output()).not.toMatch(/demo-alice|demo-bob/);
    expect(server.problems).toEqual([]);
  });

  it('a development server seeds an empty database by itself and shows stacks in errors', async () => {
    const server = await startServer({ env: { NODE_ENV: 'development', SEED: undefined } });
    try {
      expect((await get(server, '/trpc/users.list')).status).toBe(200);
      const res = await get(server, BAD_INPUT);
      expect(res.status).toBe(400);
      expect(res.text).toContain('"stack"');
    } finally {
      await server.stop();
    }
  });

  it('npm run dev means development and npm start leaves NODE_ENV to its production default', () => {
    const { scripts } = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.dev).toMatch(/^NODE_ENV=development /);
    expect(scripts.start).not.toContain('NODE_ENV');
    expect(scripts['start:cluster']).not.toContain('NODE_ENV');
  });
});
