import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * Names the filesystem `dir` is on, the same for every node process storing
 * on it: the device id (`st_dev`) of the folder, which Node gives where it
 * gives no `f_fsid`, behind a short hash of the host (its machine id and
 * name), since device numbers repeat from one host to the next. The host is
 * hashed so that the id says nothing about it.
 *
 * @example
 * await filesystemId('/var/lib/legim/node'); // '3f2a9c41d07be815:2049'
 */
export async function filesystemId(dir: string): Promise<string> {
  const [{ dev }, host] = await Promise.all([stat(dir), hostIdentity()]);
  return `${host}:${dev}`;
}

let host: Promise<string> | undefined;

/** 16 hex digits, the same for every process on this host (and this container). */
function hostIdentity(): Promise<string> {
  host ??= (async () => {
    // systemd's machine id, or D-Bus's; containers and other systems may have neither.
    const machineId = await firstReadable(['/etc/machine-id', '/var/lib/dbus/machine-id']);
    return createHash('sha256').update(`${machineId}\n${hostname()}`).digest('hex').slice(0, 16);
  })();
  return host;
}

async function firstReadable(paths: string[]): Promise<string> {
  for (const path of paths) {
    try {
      const text = (await readFile(path, 'utf8')).trim();
      if (text !== '') return text;
    } catch {
      // not there: try the next
    }
  }
  return '';
}
