import { randomBytes } from 'node:crypto';
import { link, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, isMissingFileError, removeQuietly, writeFileSynced, errorCode } from './durable-fs.js';
import { isValidNodeId } from './tree/join-message.js';

/** `<data>/node.json`: who this node is, kept across restarts. */
export interface NodeIdentity {
  nodeId: string;
}

/**
 * Reads the node's identity, creating `{nodeId: "n-<8 hex>"}` on first start.
 * The new file is written aside and hard-linked into place, so two processes
 * racing on one folder agree on a single id and nobody sees a half-written file.
 */
export async function loadOrCreateNodeIdentity(dataDir: string): Promise<NodeIdentity> {
  const path = join(dataDir, 'node.json');
  const existing = await readIdentity(path);
  if (existing) return existing;
  const created: NodeIdentity = { nodeId: `n-${randomBytes(4).toString('hex')}` };
  const aside = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFileSynced(aside, `${JSON.stringify(created)}\n`);
    await link(aside, path);
    await fsyncDir(dataDir);
    return created;
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    const winner = await readIdentity(path);
    if (!winner) throw error;
    return winner;
  } finally {
    await removeQuietly(aside);
  }
}

async function readIdentity(path: string): Promise<NodeIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissingFileError(error)) return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: fix or remove it (removing gives this node a new id)`, {
      cause: error,
    });
  }
  const nodeId = (parsed as Partial<NodeIdentity> | null)?.nodeId;
  if (!isValidNodeId(nodeId))
    throw new Error(`${path} has no valid nodeId: fix or remove it (removing gives this node a new id)`);
  return { nodeId };
}
