import type { CacheTag } from '../meta.js';
import type { DomainEvent } from '../events/bus.js';

/** What each domain event makes stale, in the event's tenant; `all` when events may have been missed. */
export function tagsInvalidatedBy(event: DomainEvent): readonly CacheTag[] | 'all' {
  switch (event.type) {
    case 'user.created':
      return USERS_CHANGED;
    case 'payment.created':
      return PAYMENTS_CHANGED;
    case 'bus.resync':
      return 'all';
  }
}
const USERS_CHANGED: readonly CacheTag[] = ['users', 'stats'];
const PAYMENTS_CHANGED: readonly CacheTag[] = ['payments', 'stats'];

/** `${scope}|${tag}`: a tag within one tenant (or `*`, the shared scope). */
export type TagKey = string;

export function tagKeysOf(scope: string, tags: readonly CacheTag[]): TagKey[] {
  return tags.map((tag) => `${scope}|${tag}`);
}

/**
 * Which cache keys carry which tag, and a generation per tag.
 *
 * The members let an event evict exactly the entries it makes stale. The
 * generations close the race the members cannot: a computation that read
 * the database before a write and finishes after its event would otherwise
 * store the old answer, and the writer's next read would get it. So a
 * computation snapshots its tags' generations when it starts and stores its
 * answer only if none moved meanwhile; and a request joins a running
 * computation only under the same condition.
 */
export function createTagIndex() {
  const members = new Map<TagKey, Set<string>>();
  // Absent means 0. Grows with the (tenant, tag) pairs ever invalidated: a handful per tenant.
  const generations = new Map<TagKey, number>();
  // Moves when everything is invalidated at once; the last slot of every snapshot.
  let epoch = 0;

  return {
    snapshot(tagKeys: readonly TagKey[]): number[] {
      const snapshot = tagKeys.map((tk) => generations.get(tk) ?? 0);
      snapshot.push(epoch);
      return snapshot;
    },
    isCurrent(tagKeys: readonly TagKey[], snapshot: readonly number[]): boolean {
      if (snapshot[tagKeys.length] !== epoch) return false;
      for (let i = 0; i < tagKeys.length; i++) {
        if ((generations.get(tagKeys[i] as TagKey) ?? 0) !== snapshot[i]) return false;
      }
      return true;
    },
    add(key: string, tagKeys: readonly TagKey[]): void {
      for (const tk of tagKeys) {
        let set = members.get(tk);
        if (!set) members.set(tk, (set = new Set()));
        set.add(key);
      }
    },
    remove(key: string, tagKeys: readonly TagKey[]): void {
      for (const tk of tagKeys) {
        const set = members.get(tk);
        if (!set) continue;
        set.delete(key);
        if (set.size === 0) members.delete(tk);
      }
    },
    /** Moves the tag's generation on and hands back the keys that carried it (now detached). */
    invalidate(tk: TagKey): Iterable<string> {
      generations.set(tk, (generations.get(tk) ?? 0) + 1);
      const keys = members.get(tk);
      if (!keys) return [];
      members.delete(tk);
      return keys;
    },
    /** Every tag at once: what a resync of a lossy bus needs. The caller clears the entries. */
    invalidateAll(): void {
      epoch++;
      members.clear();
    },
  };
}
export type TagIndex = ReturnType<typeof createTagIndex>;
