import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GatewayIdentity {
  gatewayId: string;
  adminKey: string;
  clusterSecret: string;
}

type Configured = { adminKey: string | undefined; clusterSecret: string | undefined };

/**
 * The gateway's id and secrets, generated on first start into the data
 * directory (mode 0600) so they survive restarts. Configured secrets win.
 * Several gateways may share the directory and start at once: the first
 * creates the file, the others read what it wrote.
 */
export function loadIdentity(dataDir: string, configured: Configured): GatewayIdentity {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'identity.json');
  const stored = readStored(path) ?? createStored(path);
  const identity: GatewayIdentity = {
    gatewayId: stored.gatewayId,
    adminKey: configured.adminKey ?? stored.adminKey,
    clusterSecret: configured.clusterSecret ?? stored.clusterSecret,
  };
  const changed = identity.adminKey !== stored.adminKey || identity.clusterSecret !== stored.clusterSecret;
  if (changed) {
    // Renamed into place: a gateway starting beside this one reads the old file or the new, never half of one.
    const temporary = temporaryPath(path);
    writeFileSync(temporary, JSON.stringify(identity, null, 2) + '\n', { mode: 0o600 });
    renameSync(temporary, path);
  }
  return identity;
}

function readStored(path: string): GatewayIdentity | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as GatewayIdentity;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Written whole to a temporary file, then linked into place: link() fails if
 * the name exists, so of gateways starting together exactly one identity
 * wins, and nobody ever reads a half-written file.
 */
function createStored(path: string): GatewayIdentity {
  const fresh: GatewayIdentity = {
    gatewayId: `g-${randomBytes(4).toString('hex')}`,
    adminKey: randomBytes(24).toString('base64url'),
    clusterSecret: randomBytes(24).toString('base64url'),
  };
  const temporary = temporaryPath(path);
  writeFileSync(temporary, JSON.stringify(fresh, null, 2) + '\n', { mode: 0o600 });
  try {
    linkSync(temporary, path);
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readStored(path)!;
  } finally {
    rmSync(temporary, { force: true });
  }
}

function temporaryPath(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
}
