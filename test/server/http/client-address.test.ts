import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { createClientAddress } from '../../../server/http/edge/client-address.js';

const { normalise } = createClientAddress([]);
// What normalise answered before its dotted-decimal shortcut.
const reference = (address: string) => (ipaddr.isValid(address) ? ipaddr.process(address).toString() : address);

describe('normalise', () => {
  it('answers any IPv4 address, however written, as ipaddr.js does', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.stringMatching(/^0\d{1,3}$/), fc.constant('256'));
    fc.assert(
      fc.property(fc.array(octet, { minLength: 1, maxLength: 5 }), (parts) => {
        const address = parts.join('.');
        expect(normalise(address)).toBe(reference(address));
      }),
    );
  });

  it('answers an IPv4-mapped IPv6 address with the IPv4 address', () => {
    expect(normalise('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalise('::1')).toBe('::1');
  });
});
