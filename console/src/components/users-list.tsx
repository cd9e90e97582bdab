import { useInfiniteQuery } from '@tanstack/react-query';
import { useTRPC } from 'composure-client/react';
import { useEffect, useRef } from 'react';

interface Props {
  selectedId: number | null;
  onSelect(user: { id: number; name: string }): void;
}

/** Alice's users, 50 a page, the next page fetched when the list's end scrolls into view. */
export function UsersList({ selectedId, onSelect }: Props) {
  const trpc = useTRPC();
  const users = useInfiniteQuery(trpc.users.list.infiniteQueryOptions({ limit: 50 }, { getNextPageParam: (page) => page.nextCursor }));
  const end = useRef<HTMLLIElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = users;

  useEffect(() => {
    const sentinel = end.current;
    if (!sentinel) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && hasNextPage && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const all = users.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <p className="muted small" data-testid="users-count">
        {all.length} loaded in {users.data?.pages.length ?? 0} pages{hasNextPage ? ' · scroll for more' : users.isSuccess ? ' · all loaded' : ''}
      </p>
      <ul className="list" data-testid="users-list">
        {all.map((user) => (
          <li key={user.id}>
            <button
              type="button"
              className={user.id === selectedId ? 'row selected' : 'row'}
              data-testid="user-row"
              data-user-id={user.id}
              onClick={() => onSelect({ id: user.id, name: user.name })}
            >
              <span className="id">#{user.id}</span>
              <span className="grow">
                <span className="name">{user.name}</span>
                {/* Emails are text: React escapes them, nothing is parsed as HTML. */}
                <span className="email">{user.email}</span>
              </span>
            </button>
          </li>
        ))}
        <li ref={end} className="end" data-testid="users-end">
          {users.isError ? <span className="bad">{users.error.message}</span> : hasNextPage || users.isPending ? 'loading…' : 'end of list'}
        </li>
      </ul>
    </>
  );
}
