import type { Page } from '../../shared/schemas/pagination.js';

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says that
 * more exist, and the cursor points after the last row returned.
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  cursorAfter: (row: Row) => string,
  map: (row: Row) => Item,
): Page<Item> {
  const hasMore = rows.length > limit;
  const kept = hasMore ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    data: kept.map(map),
    nextCursor: hasMore && last !== undefined ? cursorAfter(last) : null,
    hasMore,
  };
}
