import { describe, expect, it } from 'vitest';
import { clientAddress, TrustedProxies } from '../src/access/trusted-proxies.js';
import { parseGatewayConfig } from '../src/config.js';
import { parseRateLimit } from '../src/rate-limit/rate-limits.js';

describe('gateway flags for uploads, rate limits and proxies', () => {
  const parse = (flags: Parameters<typeof parseGatewayConfig>[0]['flags'], env = {}) =>
    parseGatewayConfig({ flags: { data: '/tmp/legim-config-test', ...flags }, env });

  it('keeps uploads open and limits only failed authentications by default', () => {
    const config = parse({});
    expect(config.uploads).toBe('open');
    expect(config.rateLimits).toEqual({
      upload: { perKey: undefined, perAddress: undefined },
      download: { perKey: undefined, perAddress: undefined },
      authFailures: { limit: 20, periodMs: 60_000 },
    });
  });

  it('limits everything with --uploads key, each limit changeable or off', () => {
    const config = parse(
      { uploads: 'key', downloadRatePerAddress: 'off', uploadRate: '5/s' },
      { LEGIM_AUTH_FAILURE_RATE: '0' },
    );
    expect(config.rateLimits).toEqual({
      upload: { perKey: { limit: 5, periodMs: 1000 }, perAddress: { limit: 120, periodMs: 60_000 } },
      download: { perKey: { limit: 600, periodMs: 60_000 }, perAddress: undefined },
      authFailures: undefined,
    });
    expect(parse({}, { LEGIM_UPLOADS: 'key' }).uploads).toBe('key');
  });

  it('refuses what it does not understand, naming the flag', () => {
    expect(() => parse({ uploads: 'closed' })).toThrow(/invalid uploads: expected open or key/);
    expect(() => parse({ uploadRate: '60' })).toThrow(/invalid uploadRate/);
    expect(() => parse({ uploadRate: '0/min' })).toThrow(/invalid uploadRate/);
    expect(() => parse({ trustedProxy: '10.0.0.0/33' })).toThrow(/invalid trustedProxy "10.0.0.0\/33"/);
    expect(() => parse({ trustedProxy: 'nginx' })).toThrow(/invalid trustedProxy/);
  });

  it('reads rate limits as count per period', () => {
    expect(parseRateLimit('x', '60/min')).toEqual({ limit: 60, periodMs: 60_000 });
    expect(parseRateLimit('x', '1000/h')).toEqual({ limit: 1000, periodMs: 3_600_000 });
    expect(parseRateLimit('x', '5/30s')).toEqual({ limit: 5, periodMs: 30_000 });
    expect(parseRateLimit('x', 'OFF')).toBeUndefined();
    expect(() => parseRateLimit('x', '5/0s')).toThrow(/invalid x/);
  });
});

describe('the client address', () => {
  const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

  it("is the socket's peer unless that is a trusted proxy", () => {
    expect(clientAddress('203.0.113.5', '198.51.100.1', proxies)).toBe('203.0.113.5');
    expect(clientAddress('::ffff:203.0.113.5', undefined, proxies)).toBe('203.0.113.5');
    expect(clientAddress('127.0.0.1', undefined, proxies)).toBe('127.0.0.1');
  });

  it('is the first untrusted hop of X-Forwarded-For from the right behind trusted proxies', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.1', proxies)).toBe('198.51.100.1');
    // The client's own claim (1.2.3.4) is left of the first address a trusted proxy saw.
    expect(clientAddress('::ffff:127.0.0.1', '1.2.3.4, 198.51.100.1, 10.1.2.3', proxies)).toBe('198.51.100.1');
    expect(clientAddress('fd00::1', '2001:db8::7', proxies)).toBe('2001:db8::7');
    expect(clientAddress('127.0.0.1', '10.0.0.2, 10.0.0.1', proxies)).toBe('10.0.0.2');
    // Garbage is not something a trusted proxy wrote: the last believable address stands.
    expect(clientAddress('127.0.0.1', 'evil, 10.0.0.1', proxies)).toBe('10.0.0.1');
  });

  it('believes no X-Forwarded-For without trusted proxies', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.1', new TrustedProxies([]))).toBe('127.0.0.1');
  });
});
