import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GatewayIdentity {
  gatewayId: string;
  adminKey: string;
  clusterSecret: string;
}

/**
 * The gateway's id and secrets, generated on first start into the data
 * directory (mode 0600) so they survive restarts. Configured secrets win.
 */
export function loadIdentity(
  dataDir: string,
  configured: { adminKey: string | undefined; clusterSecret: string | undefined },
): GatewayIdentity {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'identity.json');
  let stored: Partial<GatewayIdentity> = {};
  try {
    stored = JSON.parse(readFileSync(path, 'utf8')) as Partial<GatewayIdentity>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const identity: GatewayIdentity = {
    gatewayId: stored.gatewayId ?? `g-${randomBytes(4).toString('hex')}`,
    adminKey: configured.adminKey ?? stored.adminKey ?? randomBytes(24).toString('base64url'),
    clusterSecret: configured.clusterSecret ?? stored.clusterSecret ?? randomBytes(24).toString('base64url'),
  };
  const changed = (Object.keys(identity) as (keyof GatewayIdentity)[]).some((key) => stored[key] !== identity[key]);
  if (changed) {
    writeFileSync(path, JSON.stringify(identity, null, 2) + '\n', { mode: 0o600 });
  }
  return identity;
}
