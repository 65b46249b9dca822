import { BlockList, isIP } from 'node:net';
import { LegimError } from '@legim/sdk';

/**
 * The proxies whose `X-Forwarded-For` the gateway believes
 * (`--trusted-proxy 10.0.0.0/8 ::1`). Nobody else's: a client could name
 * any address there, and escape its rate limits.
 */
export class TrustedProxies {
  private readonly list = new BlockList();

  /** CIDRs (`10.0.0.0/8`, `fd00::/8`) or single addresses; throws INVALID_OPTION for anything else. */
  constructor(readonly cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [address = '', prefix] = cidr.split('/', 2);
      const family = isIP(address);
      const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
      if (family === 0 || !/^\d*$/.test(prefix ?? '') || !(bits >= 0 && bits <= (family === 6 ? 128 : 32))) {
        throw new LegimError(
          'INVALID_OPTION',
          `invalid trustedProxy "${cidr}": expected an address or CIDR such as 10.0.0.0/8 or fd00::/8`,
        );
      }
      this.list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/**
 * The client's address: the socket's peer, or, when that is a trusted
 * proxy, the first address in `X-Forwarded-For` (read from the right, as
 * each proxy appends) that is not one.
 */
export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
  trusted: TrustedProxies,
): string {
  let address = plain(socketAddress ?? '');
  if (forwardedFor === undefined || !trusted.has(address)) return address;
  for (const hop of forwardedFor.split(',').reverse()) {
    const next = plain(hop.trim());
    // A malformed entry was not written by a proxy we trust: the last address we could believe stands.
    if (isIP(next) === 0) return address;
    address = next;
    if (!trusted.has(address)) return address;
  }
  return address;
}

/** `::ffff:127.0.0.1` (an IPv4 peer of a dual-stack socket) as `127.0.0.1`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
