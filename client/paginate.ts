/** The shape every paginated procedure answers with (`Page<T>` in DESIGN.md, plus any extra fields). */
export interface PageLike {
  readonly data: readonly unknown[];
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
}

/** A paginated query of the client, such as `client.users.list`. */
export interface PaginatedQuery<TInput, TPage extends PageLike> {
  query(input: TInput, opts?: { signal?: AbortSignal }): Promise<TPage>;
}

/** The input of a paginated query without the parts paginate owns (`cursor`, and TanStack's `direction`). */
export type PageInputOf<TInput> = Omit<Exclude<TInput, undefined | void>, 'cursor' | 'direction'>;

/** Options of {@link paginate} and {@link pages}. */
export interface PaginateOptions {
  /**
   * Stop after this many pages.
   * @default Infinity
   */
  maxPages?: number;
  /**
   * Cancels the walk: the current request is aborted and the iterator throws.
   * @default undefined
   */
  signal?: AbortSignal;
}

/**
 * Walks a paginated query page by page, following `nextCursor` until
 * `hasMore` is false (or `maxPages` pages). Each page is one call of the
 * client, so it is retried and paced like any other. The first request sends
 * no cursor; the cursor is opaque and is only ever passed back.
 *
 * @example
 * ```ts
 * for await (const page of pages(client.payments.list, { limit: 100, userId: 7 })) {
 *   console.log(page.data.length, page.degraded ?? []);
 * }
 * ```
 */
export async function* pages<TInput, TPage extends PageLike>(
  procedure: PaginatedQuery<TInput, TPage>,
  input: NoInfer<PageInputOf<TInput>>,
  options: PaginateOptions = {},
): AsyncGenerator<TPage, void, undefined> {
  const maxPages = options.maxPages ?? Infinity;
  if (!(maxPages >= 1)) throw new TypeError(`paginate: maxPages must be ≥ 1, got ${String(maxPages)}`);
  const { signal } = options;
  let cursor: string | null = null;
  for (let n = 0; n < maxPages; n++) {
    signal?.throwIfAborted();
    // PageInputOf<TInput> plus a cursor is TInput again; TypeScript cannot see through the Omit.
    const request = (cursor === null ? { ...input } : { ...input, cursor }) as TInput;
    const page = await procedure.query(request, signal ? { signal } : undefined);
    yield page;
    if (!page.hasMore || page.nextCursor === null) return;
    // A server handing back the cursor it was given would loop forever.
    if (page.nextCursor === cursor) throw new Error('paginate: the server returned the same cursor twice; stopping');
    cursor = page.nextCursor;
  }
}

/**
 * Every item of a paginated query, as an async iterator: `pages()` flattened.
 * Typed from the procedure: `paginate(client.users.list, ...)` yields `User`s,
 * and the input is checked against the procedure's (without `cursor`).
 *
 * @example
 * ```ts
 * import { createClient, paginate } from 'composure-client';
 *
 * const client = createClient({ url: 'http://127.0.0.1:3000', apiKey: 'demo-alice' });
 * for await (const user of paginate(client.users.list, { limit: 50 })) console.log(user.email);
 * ```
 */
export async function* paginate<TInput, TPage extends PageLike>(
  procedure: PaginatedQuery<TInput, TPage>,
  input: NoInfer<PageInputOf<TInput>>,
  options: PaginateOptions = {},
): AsyncGenerator<TPage['data'][number], void, undefined> {
  for await (const page of pages(procedure, input, options)) yield* page.data as TPage['data'][number][];
}
