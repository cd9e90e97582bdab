import { describe, expect, it } from 'vitest';
import { createTagIndex, tagKeysOf, tagsInvalidatedBy } from '../../../server/cache/tag-index.js';

const USERS = tagKeysOf('1', ['users']);
const BOTH = tagKeysOf('1', ['users', 'stats']);

describe('tag index: members', () => {
  it('hands back every key that carried a tag, once, and detaches them', () => {
    const index = createTagIndex();
    index.add('a', BOTH);
    index.add('b', USERS);
    expect([...index.invalidate('1|users')].sort()).toEqual(['a', 'b']);
    expect([...index.invalidate('1|users')]).toEqual([]);
    expect([...index.invalidate('1|stats')]).toEqual(['a']);
  });

  it('hands back nothing for a tag no key carries', () => {
    expect([...createTagIndex().invalidate('1|payments')]).toEqual([]);
  });

  it('forgets a removed key under each of its tags and keeps the others', () => {
    const index = createTagIndex();
    index.add('a', BOTH);
    index.add('b', USERS);
    index.remove('a', BOTH);
    index.remove('c', tagKeysOf('2', ['users']));
    expect([...index.invalidate('1|users')]).toEqual(['b']);
    expect([...index.invalidate('1|stats')]).toEqual([]);
  });

  it('keeps tenants apart', () => {
    const index = createTagIndex();
    index.add('t1', tagKeysOf('1', ['users']));
    index.add('t2', tagKeysOf('2', ['users']));
    expect([...index.invalidate('2|users')]).toEqual(['t2']);
  });

  it('drops every member at once on invalidateAll', () => {
    const index = createTagIndex();
    index.add('a', BOTH);
    index.invalidateAll();
    expect([...index.invalidate('1|users')]).toEqual([]);
  });
});

describe('tag index: generations', () => {
  it('finds a snapshot current until one of its tags is invalidated', () => {
    const index = createTagIndex();
    const snapshot = index.snapshot(BOTH);
    index.invalidate('1|payments');
    index.invalidate('2|stats');
    expect(index.isCurrent(BOTH, snapshot)).toBe(true);
    index.invalidate('1|stats');
    expect(index.isCurrent(BOTH, snapshot)).toBe(false);
  });

  it('finds no snapshot current once everything is invalidated, and the next one current', () => {
    const index = createTagIndex();
    const before = index.snapshot(USERS);
    index.invalidateAll();
    expect(index.isCurrent(USERS, before)).toBe(false);
    const after = index.snapshot(USERS);
    expect(index.isCurrent(USERS, after)).toBe(true);
    index.invalidate('1|users');
    const latest = index.snapshot(USERS);
    expect(index.isCurrent(USERS, latest)).toBe(true);
    expect(index.isCurrent(USERS, after)).toBe(false);
  });

  it('finds a snapshot of no tags current until everything is invalidated', () => {
    const index = createTagIndex();
    const snapshot = index.snapshot([]);
    index.invalidate('1|users');
    expect(index.isCurrent([], snapshot)).toBe(true);
    index.invalidateAll();
    expect(index.isCurrent([], snapshot)).toBe(false);
  });
});

describe('tagsInvalidatedBy', () => {
  it('maps each event to the tags it makes stale', () => {
    expect(tagsInvalidatedBy({ type: 'user.created', tenantId: 1, id: 1 })).toEqual(['users', 'stats']);
    expect(tagsInvalidatedBy({ type: 'payment.created', tenantId: 1, id: 1, userId: 1 })).toEqual(['payments', 'stats']);
    expect(tagsInvalidatedBy({ type: 'bus.resync' })).toBe('all');
  });

  it('spells a tag key as scope|tag', () => {
    expect(tagKeysOf('*', ['rates', 'stats'])).toEqual(['*|rates', '*|stats']);
  });
});
