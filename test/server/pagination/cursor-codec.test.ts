import { describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import { createCursorCodec } from '../../../server/pagination/cursor-codec.js';
import { decodeCursorPayload, encodeCursorPayload, toBase64Url } from '../../../shared/cursor.js';

const codec = createCursorCodec('s'.repeat(32));

function rejects(fn: () => unknown): TRPCError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TRPCError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('cursor codec', () => {
  it('round-trips the last key for the same scope', () => {
    expect(codec.decode('users|1', codec.encode('users|1', 42))).toBe(42);
    expect(codec.decode('users|1', null)).toBe(0);
  });

  it('produces opaque base64url text', () => {
    expect(codec.encode('users|1', 42)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('rejects a cursor made for other filters with a 400', () => {
    const err = rejects(() => codec.decode('users|2', codec.encode('users|1', 42)));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/other filters/);
  });

  it('rejects a tampered position even when the payload is well formed', () => {
    const [, mac] = codec.encode('users|1', 42).split('.');
    const forged = `${encodeCursorPayload({ v: 1, s: 'x', k: 9999 })}.${mac}`;
    expect(rejects(() => codec.decode('users|1', forged)).message).toMatch(/signature/);
  });

  it('rejects a cursor signed under another secret', () => {
    const other = createCursorCodec('t'.repeat(32)).encode('users|1', 42);
    expect(rejects(() => codec.decode('users|1', other)).code).toBe('BAD_REQUEST');
  });

  it('rejects garbage of every shape without throwing anything but a 400', () => {
    for (const bad of ['x', '.', 'a.b.c', '!!!.???', `${toBase64Url('{"v":2}')}.AAAA`, 'é.é']) {
      expect(rejects(() => codec.decode('users|1', bad)).code).toBe('BAD_REQUEST');
    }
  });

  it('refuses payloads of an unknown version', () => {
    expect(decodeCursorPayload(toBase64Url(JSON.stringify({ v: 2, s: 'a', k: 1 })))).toBeNull();
  });
});

describe('cursor codec strictness', () => {
  it('rejects a signature that only differs in padding or unused bits', () => {
    const cursor = codec.encode('users|1', 42);
    const [payload, mac = ''] = cursor.split('.');
    const last = mac[mac.length - 1] ?? 'A';
    // The last base64url character of 16 bytes carries 2 unused bits: flip one.
    const sibling = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(last) ^ 1;
    const twin = `${payload}.${mac.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[sibling]}`;
    expect(rejects(() => codec.decode('users|1', `${cursor}==`)).code).toBe('BAD_REQUEST');
    expect(rejects(() => codec.decode('users|1', twin)).code).toBe('BAD_REQUEST');
  });
});
