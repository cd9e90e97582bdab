import { beforeEach, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { createCursorCodec, type CursorCodec } from '../../../server/pagination/cursor-codec.js';
import { decodeCursorPayload, encodeCursorPayload, toBase64Url } from '../../../shared/cursor.js';
import { ApiError } from '../../../server/errors.js';

const SECRET = 's'.repeat(32);
// Built per test, not at import: a codec made before the test starts would
// hide a broken factory from `npm run test:mutation` (mutants switch on per test).
let codec: CursorCodec;
beforeEach(() => {
  codec = createCursorCodec(SECRET);
});

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

/** Signs any text as the server would, to reach the checks behind the MAC. */
function signed(payload: string): string {
  const mac = createHmac('sha256', SECRET).update(payload).digest().subarray(0, 16);
  return `${payload}.${mac.toString('base64url')}`;
}

describe('cursor codec edges', () => {
  it('keeps its wire format, so cursors handed out before a deploy still decode after it', () => {
    // The scope digest is the first 16 base64url characters of SHA-256(scope).
    expect(codec.encode('users|1', 42)).toBe(signed(toBase64Url('{"v":1,"s":"7e710cTRqSZIsDaJ","k":42}')));
    expect(codec.decode('users|1', signed(toBase64Url('{"v":1,"s":"7e710cTRqSZIsDaJ","k":7}')))).toBe(7);
  });

  it('reads an absent or empty cursor as the first page', () => {
    expect(codec.decode('users|1', undefined)).toBe(0);
    expect(codec.decode('users|1', '')).toBe(0);
  });

  it('rejects a valid cursor with anything appended after a third dot as malformed', () => {
    const err = rejects(() => codec.decode('users|1', `${codec.encode('users|1', 42)}.x`));
    expect(err.message).toMatch(/malformed/);
  });

  it('rejects a correctly signed payload of the wrong version or shape', () => {
    for (const json of ['{"v":2,"s":"7e710cTRqSZIsDaJ","k":1}', '{"v":1,"s":"7e710cTRqSZIsDaJ","k":-1}', 'not json']) {
      const err = rejects(() => codec.decode('users|1', signed(toBase64Url(json))));
      expect(err.message).toMatch(/unsupported version or shape/);
    }
  });

  it('carries the invalid_cursor reason for the client in every rejection', () => {
    for (const bad of ['x', `${codec.encode('users|1', 1)}x`, codec.encode('users|2', 1), signed('e30')]) {
      const err = rejects(() => codec.decode('users|1', bad));
      expect(err.cause).toBeInstanceOf(ApiError);
      expect((err.cause as ApiError).reason).toBe('invalid_cursor');
    }
  });
});
