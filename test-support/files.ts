import { closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir`, recursively (none if it does not exist). */
export function allFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** Files under `dir` named `name` or `name.*`: a blob and its sidecar on a node's disk. */
export function findFiles(dir: string, name: string): string[] {
  return allFiles(dir).filter((path) => {
    const base = path.slice(path.lastIndexOf('/') + 1);
    return base === name || base.startsWith(`${name}.`);
  });
}

/** Bit rot: one bit of the file on disk changes, its size does not. */
export function flipByte(path: string, position: number): void {
  const fd = openSync(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, position);
    byte[0] = byte[0]! ^ 0x01;
    writeSync(fd, byte, 0, 1, position);
  } finally {
    closeSync(fd);
  }
}
