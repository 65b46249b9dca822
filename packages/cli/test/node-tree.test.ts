import chalk from 'chalk';
import type { ClusterNode, ClusterView } from '@legim/sdk';
import { describe, expect, it } from 'vitest';
import { capacityBar, formatLatency } from '../src/node-cells.js';
import { nodeTreeRows } from '../src/node-tree.js';
import { nodesView } from '../src/nodes-view.js';

// eslint-disable-next-line no-control-regex
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '');

const NOW = new Date('2026-11-23T13:10:00.000Z');

function node(id: string, parentId: string | null, extra: Partial<ClusterNode> = {}): ClusterNode {
  return {
    id,
    url: `http://10.0.0.${id.length}:8888`,
    parentId,
    status: 'up',
    membership: 'active',
    latencyMs: 0.84,
    lastSeen: '2026-11-23T13:09:58.000Z',
    stats: { blobCount: 3, usedBytes: 25_000_000_000, freeBytes: 75_000_000_000, totalBytes: 100_000_000_000 },
    files: 12,
    ...extra,
  };
}

const gateway = { id: 'g-5d1e07aa', url: 'http://127.0.0.1:3333' };

describe('the tree of GET /v1/cluster', () => {
  it('hangs each node under its parent, the gateway at the root, siblings by id', () => {
    const view: ClusterView = {
      gateway,
      nodes: [node('n-b', null), node('n-b2', 'n-b'), node('n-a', null), node('n-b1', 'n-b'), node('n-b11', 'n-b1')],
    };
    expect(nodeTreeRows(view).map((row) => [`${row.branch}${row.node.id}`, row.depth])).toEqual([
      ['├─ n-a', 1],
      ['└─ n-b', 1],
      ['   ├─ n-b1', 2],
      ['   │  └─ n-b11', 3],
      ['   └─ n-b2', 2],
    ]);
  });

  it('shows every node once: an unknown parent means the gateway, a cycle is not lost', () => {
    const view: ClusterView = {
      gateway,
      nodes: [node('n-x', 'n-gone'), node('n-c1', 'n-c2'), node('n-c2', 'n-c1'), node('n-self', 'n-self')],
    };
    const rows = nodeTreeRows(view).map((row) => `${row.branch}${row.node.id}`);
    expect(rows).toEqual(['├─ n-self', '└─ n-x', '?─ n-c1', '?─ n-c2']);
  });
});

describe('legim nodes, as text', () => {
  it('one aligned line per node: status (and draining), latency, disk bar, used / total, files, last heartbeat', () => {
    const view: ClusterView = {
      gateway,
      nodes: [
        node('n-0c4f9a12', null),
        node('n-7a01b3e9', null, { status: 'down', latencyMs: null, files: 1, lastSeen: '2026-11-23T13:08:00.000Z' }),
        node('n-d2a0', null, { membership: 'draining', files: 0 }),
        node('n-9e22c410', 'n-0c4f9a12', {
          status: 'suspect',
          latencyMs: 120.4,
          stats: { ...node('x', null).stats, usedBytes: 0 },
        }),
      ],
    };
    expect(plain(nodesView(view, NOW)).split('\n')).toEqual([
      'gateway g-5d1e07aa  http://127.0.0.1:3333',
      '├─ n-0c4f9a12     http://10.0.0.10:8888  up            0.8 ms  ███░░░░░░░  25 GB / 100 GB  12 files  seen 2 seconds ago',
      '│  └─ n-9e22c410  http://10.0.0.10:8888  suspect       120 ms  ░░░░░░░░░░    0 B / 100 GB  12 files  seen 2 seconds ago',
      '├─ n-7a01b3e9     http://10.0.0.10:8888  down               –  ███░░░░░░░  25 GB / 100 GB    1 file  seen 2 minutes ago',
      '└─ n-d2a0         http://10.0.0.6:8888   up, draining  0.8 ms  ███░░░░░░░  25 GB / 100 GB   0 files  seen 2 seconds ago',
      '4 storage nodes: 2 up, 1 suspect, 1 down; 1 draining',
      // Nodes that name no filesystem (older ones) count on their own; the down one not at all.
      'capacity: 50 GB used of 300 GB (225 GB free) on 3 filesystems',
    ]);
  });

  it('counts a filesystem several nodes share once, and says so', () => {
    const disk = (id: string) => ({ id, totalBytes: 100e9, freeBytes: 75e9 });
    const on = (id: string, fs: string) => node(id, null, { stats: { ...node(id, null).stats, filesystem: disk(fs) } });
    const last = (view: ClusterView): string => plain(nodesView(view, NOW)).split('\n').at(-1)!;
    expect(last({ gateway, nodes: [on('n-1', 'h:1'), on('n-2', 'h:1'), on('n-3', 'h:1')] })).toBe(
      'capacity: 75 GB used of 100 GB (75 GB free) on one filesystem, shared by 3 nodes and counted once',
    );
    expect(last({ gateway, nodes: [on('n-1', 'h:1'), on('n-2', 'h:2'), on('n-3', 'h:1')] })).toBe(
      'capacity: 75 GB used of 200 GB (150 GB free) on 2 filesystems; n-1 and n-3 share one (counted once)',
    );
    expect(last({ gateway, nodes: [on('n-1', 'h:1')] })).toBe(
      'capacity: 25 GB used of 100 GB (75 GB free) on one filesystem',
    );
    expect(last({ gateway, nodes: [node('n-1', null, { status: 'down' })] })).toBe('1 storage node: 1 down');
  });

  it('colours the status and bar by status', () => {
    const view: ClusterView = { gateway, nodes: [node('n-up', null), node('n-down', null, { status: 'down' })] };
    const level = chalk.level;
    chalk.level = 1;
    try {
      const text = nodesView(view, NOW);
      expect(text).toContain('\x1b[32mup  \x1b[39m');
      expect(text).toContain('\x1b[32m███░░░░░░░\x1b[39m');
      expect(text).toContain('\x1b[31mdown\x1b[39m');
    } finally {
      chalk.level = level;
    }
  });

  it('says so when no node has joined', () => {
    expect(plain(nodesView({ gateway, nodes: [] }, NOW)).split('\n')).toEqual([
      'gateway g-5d1e07aa  http://127.0.0.1:3333',
      'no storage node has joined yet',
    ]);
  });

  it('bars and latencies', () => {
    expect(capacityBar(0, 100)).toBe('░░░░░░░░░░');
    expect(capacityBar(1, 1000)).toBe('█░░░░░░░░░');
    expect(capacityBar(55, 100)).toBe('██████░░░░');
    expect(capacityBar(200, 100)).toBe('██████████');
    expect(capacityBar(5, 0)).toBe('··········');
    expect(formatLatency(null)).toBe('–');
    expect(formatLatency(3.14159)).toBe('3.1 ms');
    expect(formatLatency(42.6)).toBe('43 ms');
  });
});
