import type { TlsSettings } from '@legim/node';
import type { CliContext } from '../context.js';

/** Shown under `legim server start --help` and `legim node start --help`. */
export const TLS_HELP = `
TLS: with --tls-cert and --tls-key the process serves HTTPS (a missing, unreadable or
mismatched file stops it at start). The global --ca (before the command, or LEGIM_CA)
names the CA the peers' certificates must chain to. A process that uses TLS never sends
the cluster secret to an http:// peer unless --allow-http-loopback and the peer is on
loopback. Example:
  legim --ca ca.pem server start --tls-cert gateway.pem --tls-key gateway-key.pem
`;

/**
 * The global `--ca`, as the flag the services' config parsers read (they
 * fall back to LEGIM_CA themselves). The CLI's stored `ca` setting is for its
 * own client commands, not for the processes it starts.
 */
export function caFlag(context: CliContext): { ca?: string } {
  return context.caFlag === undefined ? {} : { ca: context.caFlag };
}

/** What the startup summary says about TLS. */
export function tlsRows(tls: TlsSettings): [string, string][] {
  if (tls.identity === undefined && !tls.peers.required) return [];
  const serves = tls.identity === undefined ? 'plain HTTP' : 'HTTPS';
  const peers = tls.peers.ca === undefined ? "peers checked against Node's public CAs" : 'peers checked against --ca';
  const loopback = tls.peers.allowHttpLoopback ? '; http:// peers on loopback allowed' : '';
  return [['tls', `${serves}; ${peers}${loopback}`]];
}
