import type { FilesystemShare, NodeStats } from './protocol/index.js';

/** The disks of a set of nodes, each filesystem counted once. */
export interface CapacitySummary {
  usedBytes: number;
  freeBytes: number;
  totalBytes: number;
  /** Sorted by their first node id. */
  filesystems: FilesystemShare[];
}

/**
 * Adds up the disks of storage nodes, counting each filesystem once: three
 * nodes on one 271 GB disk hold 271 GB, not 813. The nodes' blobs are
 * distinct files, so their used bytes add up; the size and the free space of
 * a shared filesystem do not. A node with a capacity (`--capacity`) reports
 * that as its total, so the nodes on one filesystem hold the sum of their
 * totals, but never more than the filesystem itself.
 *
 * @example
 * summarizeCapacity(view.nodes.filter((node) => node.status !== 'down'));
 */
export function summarizeCapacity(nodes: ReadonlyArray<{ id: string; stats: NodeStats }>): CapacitySummary {
  const groups = new Map<string, Array<{ id: string; stats: NodeStats }>>();
  for (const node of nodes) {
    // A node that names no filesystem is one of its own; the prefix keeps it apart from any reported id.
    const key = node.stats.filesystem ? `fs:${node.stats.filesystem.id}` : `node:${node.id}`;
    const group = groups.get(key);
    if (group) group.push(node);
    else groups.set(key, [node]);
  }
  const sum = (members: Array<{ stats: NodeStats }>, field: 'usedBytes' | 'freeBytes' | 'totalBytes'): number =>
    members.reduce((total, member) => total + member.stats[field], 0);

  const filesystems = [...groups.values()].map((members): FilesystemShare => {
    const reported = members.map((member) => member.stats.filesystem).filter((fs) => fs !== undefined);
    const usedBytes = sum(members, 'usedBytes');
    if (reported.length === 0) {
      return {
        id: null,
        nodeIds: members.map((member) => member.id),
        usedBytes,
        freeBytes: sum(members, 'freeBytes'),
        totalBytes: sum(members, 'totalBytes'),
      };
    }
    // The reports come from different heartbeats: the largest size, the smallest free space.
    const diskTotal = Math.max(...reported.map((fs) => fs.totalBytes));
    const diskFree = Math.min(...reported.map((fs) => fs.freeBytes));
    return {
      id: reported[0]!.id,
      nodeIds: members.map((member) => member.id).sort(),
      usedBytes,
      freeBytes: Math.min(diskFree, sum(members, 'freeBytes')),
      totalBytes: Math.min(diskTotal, sum(members, 'totalBytes')),
    };
  });
  filesystems.sort((a, b) => (a.nodeIds[0] ?? '').localeCompare(b.nodeIds[0] ?? ''));
  return {
    usedBytes: filesystems.reduce((total, fs) => total + fs.usedBytes, 0),
    freeBytes: filesystems.reduce((total, fs) => total + fs.freeBytes, 0),
    totalBytes: filesystems.reduce((total, fs) => total + fs.totalBytes, 0),
    filesystems,
  };
}
