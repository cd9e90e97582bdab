// @vitest-environment happy-dom
import { useInfiniteQuery } from '@tanstack/react-query';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ComposureProvider, createQueryClient, useTRPC } from '../../client/react.js';
import { killAllServers, startServer, type ServerProcess } from '../helpers/server-process.js';
import { startProxy, type LoopbackProxy } from './helpers/proxy.js';

// happy-dom replaces URL and fetch, which the server cannot run under: it
// gets its own process. The proxy plays the CORS gateway a browser needs.
let server: ServerProcess | undefined;
// Unset when beforeAll fails early, hence the `?.` in afterAll.
let proxy: LoopbackProxy;
beforeAll(async () => {
  // A fresh temporary database, and of the parent's environment only PATH, HOME and TMPDIR.
  server = await startServer({ env: { NODE_ENV: 'test', SEED_USERS: '70' }, startTimeoutMs: 60_000 });
  proxy = await startProxy(server.url, { cors: true });
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
  await killAllServers();
});
afterEach(cleanup);

let fetchNext: (() => Promise<unknown>) | undefined;

function Users() {
  const trpc = useTRPC();
  const users = useInfiniteQuery(trpc.users.list.infiniteQueryOptions({ limit: 20 }, { getNextPageParam: (p) => p.nextCursor }));
  fetchNext = users.fetchNextPage;
  const all = users.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <p data-testid="status">
      {users.status} pages={users.data?.pages.length ?? 0} users={all.length} last={all.at(-1)?.email ?? '-'} more={String(users.hasNextPage)}
    </p>
  );
}

describe('React', () => {
  it('loads three pages with fetchNextPage through the infinite query options', async () => {
    render(
      <ComposureProvider url={proxy.url} apiKey="demo-alice">
        <Users />
      </ComposureProvider>,
    );
    const status = () => screen.getByTestId('status').textContent;
    await waitFor(() => expect(status()).toContain('pages=1 users=20'));
    await act(async () => {
      await fetchNext?.();
    });
    await waitFor(() => expect(status()).toContain('pages=2 users=40'));
    await act(async () => {
      await fetchNext?.();
    });
    await waitFor(() => expect(status()).toBe('success pages=3 users=60 last=user60@alice.example more=true'));

    const inputs = proxy.requestsTo('users.list').map((e) => JSON.parse(new URL(e.path, proxy.url).searchParams.get('input') ?? '{}') as Record<string, unknown>);
    expect(inputs).toHaveLength(3);
    // TanStack adds `direction`; the server's non-strict input accepts it.
    expect(inputs.map((i) => [i['limit'], i['direction'], typeof i['cursor']])).toEqual([
      [20, 'forward', 'undefined'],
      [20, 'forward', 'string'],
      [20, 'forward', 'string'],
    ]);
  });

  it('turns React Query retries off in favour of the link', () => {
    const queryClient = createQueryClient({ defaultOptions: { queries: { staleTime: 5_000, retry: 3 } } });
    expect(queryClient.getDefaultOptions().queries?.retry).toBe(false);
    expect(queryClient.getDefaultOptions().queries?.staleTime).toBe(5_000);
    expect(queryClient.getDefaultOptions().mutations?.retry).toBe(false);
  });
});
