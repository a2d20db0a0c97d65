import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, cidrCovers, formatIp, parseCidr, parseIp } from '../../../src/api/ip.js';

const v4 = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value) => ({ family: 4 as const, value }));
const v6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((value) => ({ family: 6 as const, value }));
const anyIp = fc.oneof(v4, v6);

describe('IP addresses', () => {
  it('format and parse round-trip', () => {
    fc.assert(fc.property(anyIp, (ip) => {
        expect(parseIp(formatIp(ip))).toEqual(ip);
      }));
  });

  it.each([
    ['10.0.0.1', true],
    ['255.255.255.255', true],
    ['256.0.0.1', false],
    ['01.0.0.1', false],
    ['1.2.3', false],
    ['::', true],
    ['::1', true],
    ['2001:db8::', true],
    ['::ffff:10.0.0.1', true],
    ['1::2::3', false],
    ['1:2:3:4:5:6:7:8:9', false],
    ['fe80::1%eth0', false],
    ['12345::', false],
  ])('%s is an IP: %s', (text, ok) => {
    expect(parseIp(text) !== undefined).toBe(ok);
  });

  it('formats IPv6 canonically (RFC 5952)', () => {
    expect(formatIp(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(parseIp('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
  });
});

describe('CIDRs', () => {
  const cidr = anyIp.chain((ip) => fc.integer({ min: 0, max: ip.family === 4 ? 32 : 128 }).map((prefix) => ({ ip, prefix })));

  it('canonicalise by clearing host bits, and contain the address written', () => {
    fc.assert(
      fc.property(cidr, ({ ip, prefix }) => {
        const parsed = parseCidr(`${formatIp(ip)}/${prefix}`)!;
        expect(parsed.cidr.prefix).toBe(prefix);
        expect(cidrContains(parsed.cidr, ip)).toBe(true);
        const again = parseCidr(parsed.cidr.text)!;
        expect(again.hadHostBits).toBe(false);
        expect(again.cidr).toEqual(parsed.cidr);
      }),
    );
  });

  it('covering agrees with containment of addresses', () => {
    fc.assert(
      fc.property(cidr, cidr, anyIp, (a, b, ip) => {
        const outer = parseCidr(`${formatIp(a.ip)}/${a.prefix}`)!.cidr;
        const inner = parseCidr(`${formatIp(b.ip)}/${b.prefix}`)!.cidr;
        if (cidrCovers(outer, inner) && cidrContains(inner, ip)) expect(cidrContains(outer, ip)).toBe(true);
      }),
    );
  });

  it('reports host bits', () => {
    expect(parseCidr('10.0.0.1/8')).toMatchObject({ hadHostBits: true, cidr: { text: '10.0.0.0/8' } });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ hadHostBits: false, cidr: { text: '0.0.0.0/0' } });
    expect(parseCidr('::/0')).toMatchObject({ hadHostBits: false, cidr: { text: '::/0', family: 6 } });
  });

  it.each(['10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '::/129', '10.0.0.0/08', 'x/8', '10.0.0.0/-1'])('refuses %s', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});
