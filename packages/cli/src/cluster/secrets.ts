import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from '../errors.js';

/** The secrets of a local cluster, generated once and reused so its data stays readable. */
export interface ClusterSecrets {
  clusterSecret: string;
  adminKey: string;
}

export const SECRETS_FILE = 'cluster.json';

/** Reads `<dataDir>/cluster.json`, creating it (mode 0600) on first use. */
export async function loadOrCreateSecrets(dataDir: string): Promise<ClusterSecrets> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, SECRETS_FILE);
  const existing = await readSecrets(path);
  if (existing) return existing;

  const fresh: ClusterSecrets = { clusterSecret: newSecret(), adminKey: newSecret() };
  try {
    // 'wx': never overwrite secrets another `legim up` wrote a moment ago.
    await writeFile(path, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const raced = await readSecrets(path);
    if (raced) return raced;
    throw damaged(path);
  }
}

async function readSecrets(path: string): Promise<ClusterSecrets | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: Partial<ClusterSecrets>;
  try {
    parsed = JSON.parse(text) as Partial<ClusterSecrets>;
  } catch {
    throw damaged(path);
  }
  if (!isSecret(parsed.clusterSecret) || !isSecret(parsed.adminKey)) throw damaged(path);
  return { clusterSecret: parsed.clusterSecret, adminKey: parsed.adminKey };
}

function isSecret(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 16 && !/\s/.test(value);
}

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

function damaged(path: string): CliError {
  return new CliError(
    'INVALID_CLUSTER_FILE',
    `${path} must hold {"clusterSecret", "adminKey"}, each at least 16 characters; fix it, or delete it to generate new secrets`,
  );
}
