import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LegimError } from '@legim/sdk';

/** The certificate (chain) and private key a process serves HTTPS with, both PEM. */
export interface ServerIdentity {
  cert: Buffer;
  key: Buffer;
}

/** How a process reaches the peers it sends the cluster secret to. */
export interface PeerTls {
  /** PEM of the CA the peers' certificates must chain to; undefined: Node's bundled public roots. */
  ca: Buffer | undefined;
  /** This process uses TLS (serves it, or was given a CA): the secret goes to https:// peers only. */
  required: boolean;
  /** With `required`: http:// peers on loopback addresses are accepted anyway (local development). */
  allowHttpLoopback: boolean;
}

/** A process's TLS, validated once at startup; {@link loadTlsSettings} builds it. */
export interface TlsSettings {
  /** Undefined: the process listens with plain HTTP. */
  identity: ServerIdentity | undefined;
  peers: PeerTls;
}

/** Paths as given on the command line or in the environment. */
export interface TlsFiles {
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
  allowHttpLoopback?: boolean | undefined;
}

/** No TLS at all: plain HTTP, and the secret goes to any peer (the behaviour before TLS existed). */
export const PLAIN_HTTP: TlsSettings = {
  identity: undefined,
  peers: { ca: undefined, required: false, allowHttpLoopback: false },
};

/**
 * Reads and checks the certificate, key and CA files, so that a mistake is
 * one startup error and never a silent fallback to plain HTTP: a certificate
 * without its key (or the reverse), an unreadable or non-PEM file, and a key
 * that does not belong to the certificate are all refused here.
 *
 * @example
 * const tls = loadTlsSettings({ cert: 'node.pem', key: 'node-key.pem', ca: 'ca.pem' });
 */
export function loadTlsSettings(files: TlsFiles): TlsSettings {
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw invalid(
      files.cert === undefined
        ? '--tls-key was given without --tls-cert: HTTPS needs both the certificate and its key'
        : '--tls-cert was given without --tls-key: HTTPS needs both the certificate and its key',
    );
  }
  const identity =
    files.cert === undefined || files.key === undefined ? undefined : loadIdentity(files.cert, files.key);
  const ca = files.ca === undefined ? undefined : loadCa(files.ca);
  return {
    identity,
    peers: {
      ca,
      required: identity !== undefined || ca !== undefined,
      allowHttpLoopback: files.allowHttpLoopback ?? false,
    },
  };
}

function loadIdentity(certPath: string, keyPath: string): ServerIdentity {
  const cert = readPem(certPath, '--tls-cert');
  const key = readPem(keyPath, '--tls-key');
  const certificate = parseCertificate(cert, certPath, '--tls-cert');
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw invalid(`--tls-key ${keyPath} is not a PEM private key (${(error as Error).message})`, error);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw invalid(`--tls-key ${keyPath} does not belong to the certificate in --tls-cert ${certPath}`);
  }
  const expires = new Date(certificate.validTo);
  if (expires.getTime() < Date.now()) {
    throw invalid(`the certificate in --tls-cert ${certPath} expired on ${expires.toISOString()}: renew it`);
  }
  return { cert, key };
}

function loadCa(path: string): Buffer {
  const ca = readPem(path, '--ca');
  parseCertificate(ca, path, '--ca');
  return ca;
}

function parseCertificate(pem: Buffer, path: string, flag: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw invalid(`${flag} ${path} is not a PEM certificate (${(error as Error).message})`, error);
  }
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw invalid(
      `cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      error,
    );
  }
}

function invalid(message: string, cause?: unknown): LegimError {
  return new LegimError('INVALID_OPTION', message, cause === undefined ? {} : { cause });
}
