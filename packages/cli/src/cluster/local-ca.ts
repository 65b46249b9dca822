import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

/** The files `legim up --tls` uses, all PEM, in `<data>/tls/`. */
export interface LocalTlsFiles {
  /** The local CA's certificate: what clients trust (`--ca`, `curl --cacert`). */
  ca: string;
  caKey: string;
  /** One certificate for every gateway and node of the local cluster, signed by the CA. */
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;
const CA_DAYS = 5 * 365;
const CERT_DAYS = 365;
/** A certificate closer than this to its end is issued again. */
const RENEW_BEFORE_DAYS = 30;

/**
 * A CA of the cluster's own and a certificate for `host` (and always
 * 127.0.0.1, ::1 and localhost) signed by it. The CA is kept across runs, so
 * a client told to trust it stays configured; the certificate is issued again
 * when missing, about to expire, or not valid for `host`.
 *
 * @example
 * const tls = await ensureLocalTls('/home/me/.local/share/legim', '127.0.0.1');
 * // tls.ca → /home/me/.local/share/legim/tls/ca.pem
 */
export async function ensureLocalTls(dataDir: string, host: string): Promise<LocalTlsFiles> {
  const dir = join(dataDir, 'tls');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: LocalTlsFiles = {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'cert.pem'),
    key: join(dir, 'key.pem'),
  };
  const hosts = [...new Set(['127.0.0.1', '::1', 'localhost', unbracket(host)])].filter(isNamedHost);
  const ca = (await usable(files.ca, files.caKey, [])) ? await readCa(files) : await createCa(files);
  if (!(await usable(files.cert, files.key, hosts, files.ca))) await issueCertificate(ca, hosts, files);
  return files;
}

interface CertificateAuthority {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

async function createCa(files: LocalTlsFiles): Promise<CertificateAuthority> {
  const { privateKey, publicKey } = newKeyPair();
  const subject = [{ name: 'commonName', value: 'Legim local CA' }];
  const cert = newCertificate(publicKey, subject, subject, CA_DAYS);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  await writeFile(files.caKey, forge.pki.privateKeyToPem(privateKey), { mode: 0o600 });
  await writeFile(files.ca, forge.pki.certificateToPem(cert));
  return { cert, key: privateKey };
}

async function readCa(files: LocalTlsFiles): Promise<CertificateAuthority> {
  return {
    cert: forge.pki.certificateFromPem(await readFile(files.ca, 'utf8')),
    key: forge.pki.privateKeyFromPem(await readFile(files.caKey, 'utf8')),
  };
}

async function issueCertificate(ca: CertificateAuthority, hosts: string[], files: LocalTlsFiles): Promise<void> {
  const { privateKey, publicKey } = newKeyPair();
  const cert = newCertificate(
    publicKey,
    [{ name: 'commonName', value: hosts[0]! }],
    ca.cert.subject.attributes,
    CERT_DAYS,
  );
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    // Client auth too: the same certificate could later authenticate nodes to their parent.
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      altNames: hosts.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  await writeFile(files.key, forge.pki.privateKeyToPem(privateKey), { mode: 0o600 });
  await writeFile(files.cert, forge.pki.certificateToPem(cert));
}

/** RSA keys from Node's own crypto (native, fast); forge only writes the certificates. */
function newKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem);
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function newCertificate(
  publicKey: forge.pki.rsa.PublicKey,
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  days: number,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive (first bit clear) and unique: what clients expect of a serial number.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000); // a clock a little behind still accepts it
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  return cert;
}

/** The pair exists, is not about to expire, names every host, and (given `caPath`) was signed by that CA. */
async function usable(certPath: string, keyPath: string, hosts: string[], caPath?: string): Promise<boolean> {
  if (!existsSync(certPath) || !existsSync(keyPath)) return false;
  try {
    const cert = new X509Certificate(await readFile(certPath));
    if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_DAYS * DAY_MS) return false;
    const ca = caPath === undefined ? undefined : new X509Certificate(await readFile(caPath));
    if (ca !== undefined && !(cert.checkIssued(ca) && cert.verify(ca.publicKey))) return false;
    return hosts.every((host) => (isIP(host) ? cert.checkIP(host) : cert.checkHost(host)) !== undefined);
  } catch {
    return false;
  }
}

/** A wildcard listen address names no host a client would dial. */
function isNamedHost(host: string): boolean {
  return host !== '' && host !== '0.0.0.0' && host !== '::';
}

function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}
