import { QueryClient, QueryClientProvider, type QueryClientConfig } from '@tanstack/react-query';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { useState, type ReactNode } from 'react';
import type { AppRouter } from '../server/routers/app.js';
import { createClient, type ClientOptions, type ComposureClient } from './create-client.js';

// Named, so declarations say `AppRouter` instead of spelling out the whole router.
type ComposureContext = ReturnType<typeof createTRPCContext<AppRouter>>;

const context: ComposureContext = createTRPCContext<AppRouter>();

/**
 * The tRPC + TanStack Query context for the Composure router:
 * `useTRPC()` gives the typed options proxy (`trpc.users.list.infiniteQueryOptions(...)`),
 * `useTRPCClient()` the client itself. `TRPCProvider` is the bare provider,
 * for apps that bring their own QueryClient setup; most use {@link ComposureProvider}.
 *
 * @example
 * ```tsx
 * const trpc = useTRPC();
 * const users = useInfiniteQuery(trpc.users.list.infiniteQueryOptions({ limit: 20 }, { getNextPageParam: (p) => p.nextCursor }));
 * ```
 */
export const useTRPC: ComposureContext['useTRPC'] = context.useTRPC;

/**
 * The client given to the nearest provider, for imperative calls
 * (`await client.users.byId.query({ id })`) inside components.
 *
 * @example
 * ```tsx
 * const client = useTRPCClient();
 * const onClick = () => client.payments.create.mutate({ userId: 1, amountCents: 500, currency: 'EUR' });
 * ```
 */
export const useTRPCClient: ComposureContext['useTRPCClient'] = context.useTRPCClient;

/**
 * The bare tRPC provider, for apps that set up QueryClientProvider
 * themselves; most apps use {@link ComposureProvider}.
 *
 * @example
 * ```tsx
 * <QueryClientProvider client={queryClient}>
 *   <TRPCProvider trpcClient={client} queryClient={queryClient}>{children}</TRPCProvider>
 * </QueryClientProvider>
 * ```
 */
export const TRPCProvider: ComposureContext['TRPCProvider'] = context.TRPCProvider;

/**
 * A QueryClient with TanStack Query's own retries off: the client's links
 * already retry what is worth retrying, honouring Retry-After, and a second
 * layer would multiply attempts (4 × 4) and ignore the server's pauses.
 *
 * @example
 * ```ts
 * const queryClient = createQueryClient({ defaultOptions: { queries: { staleTime: 30_000 } } });
 * ```
 */
export function createQueryClient(config: QueryClientConfig = {}): QueryClient {
  return new QueryClient({
    ...config,
    defaultOptions: {
      ...config.defaultOptions,
      queries: { ...config.defaultOptions?.queries, retry: false },
      mutations: { ...config.defaultOptions?.mutations, retry: false },
    },
  });
}

/** Props of {@link ComposureProvider}: client options (or a ready `client`), and optionally a QueryClient. */
export type ComposureProviderProps = ({ client: ComposureClient } | ClientOptions) & {
  children: ReactNode;
  /**
   * The QueryClient to use; keep its retries off (see {@link createQueryClient}).
   * @default createQueryClient()
   */
  queryClient?: QueryClient;
};

/**
 * Provides TanStack Query and the typed tRPC context to a React tree. The
 * client and QueryClient are made once per mounted provider (later prop
 * changes are ignored, as with any `useState` initializer).
 *
 * @example
 * ```tsx
 * import { ComposureProvider, useTRPC } from 'composure-client/react';
 * import { useInfiniteQuery } from '@tanstack/react-query';
 *
 * function Users() {
 *   const trpc = useTRPC();
 *   const q = useInfiniteQuery(trpc.users.list.infiniteQueryOptions({ limit: 20 }, { getNextPageParam: (p) => p.nextCursor }));
 *   return <button onClick={() => q.fetchNextPage()}>{q.data?.pages.flatMap((p) => p.data).length ?? 0} users</button>;
 * }
 *
 * export const App = () => (
 *   <ComposureProvider url="http://127.0.0.1:3000" apiKey="demo-alice">
 *     <Users />
 *   </ComposureProvider>
 * );
 * ```
 */
export function ComposureProvider(props: ComposureProviderProps): ReactNode {
  const [queryClient] = useState(() => props.queryClient ?? createQueryClient());
  const [trpcClient] = useState(() => ('client' in props ? props.client : createClient(props)));
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {props.children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
