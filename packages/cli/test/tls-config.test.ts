import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNodeConfig, plainPeerRefusal, type PeerTls } from '@legim/node';
import { Legim } from '@legim/sdk';
import { parseGatewayConfig } from '@legim/server';
import { ensureLocalTls, type LocalTlsFiles } from 'legim';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The TLS settings as each process parses them, with real files from the local CA `legim up --tls` makes. */
describe('TLS settings', () => {
  let dir: string;
  let tls: LocalTlsFiles;
  const secret = 'a-cluster-secret-of-20';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-tls-config-'));
    tls = await ensureLocalTls(dir, '127.0.0.1');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the certificate, key and CA of a node from flags or the environment', () => {
    const fromEnv = parseNodeConfig({
      flags: { secret },
      env: { LEGIM_TLS_CERT: tls.cert, LEGIM_TLS_KEY: tls.key, LEGIM_CA: tls.ca },
    });
    expect(fromEnv.tls?.identity?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(fromEnv.tls?.peers).toMatchObject({ required: true, allowHttpLoopback: false });
    const caOnly = parseNodeConfig({ flags: { secret, ca: tls.ca, allowHttpLoopback: true } });
    expect(caOnly.tls?.identity).toBeUndefined();
    expect(caOnly.tls?.peers).toMatchObject({ required: true, allowHttpLoopback: true });
    expect(parseNodeConfig({ flags: { secret } }).tls).toBeUndefined(); // plain HTTP, as before TLS existed
  });

  it('refuses an http:// advertised URL on a node that serves HTTPS', () => {
    const flags = { secret, tlsCert: tls.cert, tlsKey: tls.key, advertise: 'http://10.0.0.7:8888' };
    expect(() => parseNodeConfig({ flags })).toThrow(/advertise an https:\/\/ URL/);
  });

  it("refuses a gateway's certificate without a key, a key that is not its own, and a CA that is not a certificate", () => {
    expect(() => parseGatewayConfig({ flags: { tlsCert: tls.cert } })).toThrow(/without --tls-key/);
    expect(() => parseGatewayConfig({ flags: { tlsCert: tls.cert, tlsKey: tls.caKey } })).toThrow(
      /does not belong to the certificate/,
    );
    expect(() => parseGatewayConfig({ flags: { ca: tls.key } })).toThrow(/--ca .* is not a PEM certificate/);
    const config = parseGatewayConfig({ flags: {}, env: { LEGIM_CA: tls.ca, LEGIM_ALLOW_HTTP_LOOPBACK: '1' } });
    expect(config.tls.peers).toMatchObject({ required: true, allowHttpLoopback: true });
  });

  it('sends the secret over plain HTTP only without TLS, or to loopback with --allow-http-loopback', () => {
    const peers = (required: boolean, allowHttpLoopback: boolean): PeerTls => ({
      ca: undefined,
      required,
      allowHttpLoopback,
    });
    expect(plainPeerRefusal('http://10.0.0.7:8888', peers(false, false), 'node')).toBeUndefined();
    expect(plainPeerRefusal('https://10.0.0.7:8888', peers(true, false), 'node')).toBeUndefined();
    expect(plainPeerRefusal('http://127.0.0.1:8888', peers(true, true), 'node')).toBeUndefined();
    expect(plainPeerRefusal('http://localhost:8888', peers(true, false), 'node')?.message).toMatch(
      /--allow-http-loopback/,
    );
    expect(plainPeerRefusal('http://10.0.0.7:8888', peers(true, true), 'node')?.code).toBe('TLS_REQUIRED');
  });

  it('gives the SDK either a CA or a dispatcher, not both', () => {
    expect(() => new Legim({ url: 'https://127.0.0.1:1', ca: 'pem', dispatcher: new Agent() })).toThrow(
      /either ca or dispatcher/,
    );
  });
});
