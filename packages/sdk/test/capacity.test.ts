import { describe, expect, it } from 'vitest';
import { summarizeCapacity, type NodeStats } from '../src/index.js';

const GB = 1_000_000_000;
const disk = (id: string, totalBytes: number, freeBytes: number) => ({ id, totalBytes, freeBytes });
const node = (id: string, stats: Partial<NodeStats> & Pick<NodeStats, 'usedBytes' | 'freeBytes' | 'totalBytes'>) => ({
  id,
  stats: { blobCount: 0, ...stats },
});

describe('summarizeCapacity', () => {
  it('counts a filesystem three nodes share once: 271 GB, not 813', () => {
    const shared = disk('h:2049', 271 * GB, 83 * GB);
    const summary = summarizeCapacity(
      ['n-c', 'n-a', 'n-b'].map((id) =>
        node(id, { usedBytes: 2 * GB, freeBytes: 83 * GB, totalBytes: 271 * GB, filesystem: shared }),
      ),
    );
    expect(summary).toEqual({
      usedBytes: 6 * GB,
      freeBytes: 83 * GB,
      totalBytes: 271 * GB,
      filesystems: [
        { id: 'h:2049', nodeIds: ['n-a', 'n-b', 'n-c'], usedBytes: 6 * GB, freeBytes: 83 * GB, totalBytes: 271 * GB },
      ],
    });
  });

  it('adds up separate filesystems, and nodes that name none (older nodes) each on their own', () => {
    const summary = summarizeCapacity([
      node('n-1', { usedBytes: 1, freeBytes: 10, totalBytes: 20, filesystem: disk('h1:1', 20, 10) }),
      node('n-2', { usedBytes: 2, freeBytes: 30, totalBytes: 40, filesystem: disk('h2:1', 40, 30) }),
      node('n-3', { usedBytes: 3, freeBytes: 50, totalBytes: 60 }),
      node('n-4', { usedBytes: 4, freeBytes: 50, totalBytes: 60 }),
    ]);
    expect(summary).toMatchObject({ usedBytes: 10, freeBytes: 140, totalBytes: 180 });
    expect(summary.filesystems.map((fs) => [fs.id, fs.nodeIds])).toEqual([
      ['h1:1', ['n-1']],
      ['h2:1', ['n-2']],
      [null, ['n-3']],
      [null, ['n-4']],
    ]);
  });

  it('adds the capacities of nodes sharing a filesystem, never beyond the filesystem', () => {
    // Two nodes with --capacity 100 GB each on a 150 GB disk with 120 GB free.
    const shared = disk('h:7', 150 * GB, 120 * GB);
    const capped = (id: string, used: number) =>
      node(id, { usedBytes: used, freeBytes: 100 * GB - used, totalBytes: 100 * GB, filesystem: shared });
    expect(summarizeCapacity([capped('n-1', 10 * GB), capped('n-2', 20 * GB)])).toMatchObject({
      usedBytes: 30 * GB,
      freeBytes: 120 * GB,
      totalBytes: 150 * GB,
    });
    // Small capacities stay what they say.
    const small = (id: string) => node(id, { usedBytes: 0, freeBytes: 5 * GB, totalBytes: 5 * GB, filesystem: shared });
    expect(summarizeCapacity([small('n-1'), small('n-2')])).toMatchObject({ freeBytes: 10 * GB, totalBytes: 10 * GB });
  });

  it('is all zeros without nodes', () => {
    expect(summarizeCapacity([])).toEqual({ usedBytes: 0, freeBytes: 0, totalBytes: 0, filesystems: [] });
  });
});
