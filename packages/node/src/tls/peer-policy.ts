import { LegimError } from '@legim/sdk';
import type { PeerTls } from './tls-settings.js';

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\./.test(hostname);
}

/**
 * Why the cluster secret must not be sent to `url`, or undefined when it may.
 * A process that uses TLS never sends it over plain HTTP, where anyone on the
 * path could read it and then act as a gateway or node, unless the peer is on
 * loopback and `--allow-http-loopback` was given.
 */
export function plainPeerRefusal(url: string, peers: PeerTls, peer: string): LegimError | undefined {
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'http:' || !peers.required) return undefined;
  if (peers.allowHttpLoopback && isLoopbackHost(hostname)) return undefined;
  const fix = isLoopbackHost(hostname)
    ? 'give it TLS (--tls-cert and --tls-key), or pass --allow-http-loopback for local development'
    : 'give it TLS (--tls-cert and --tls-key) and reach it with https://';
  return new LegimError(
    'TLS_REQUIRED',
    `refusing to send the cluster secret to ${peer} at ${url} over plain HTTP (this process uses TLS): ${fix}`,
  );
}
