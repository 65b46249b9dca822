import type { LegimEvent, Stats } from '@legim/sdk';
import { describe, expect, it } from 'vitest';
import { eventLine } from '../src/dashboard/event-line.js';
import { trafficRates } from '../src/dashboard/traffic-rates.js';

function stats(at: string, uploads: number, downloadBytes: number): Stats {
  return {
    at,
    uptimeSeconds: 60,
    files: { live: 1, bytes: 10, processing: 0, failed: 0 },
    variants: { count: 0, bytes: 0 },
    traffic: { uploads, uploadBytes: uploads * 1000, downloads: 0, downloadBytes, refused: 0 },
    replication: { target: 3, underReplicated: 0 },
    jobs: { backend: 'sqlite', waiting: 0, running: 0, deadLettered: 0 },
    nodes: { up: 3, suspect: 0, down: 0, usedBytes: 0, freeBytes: 0, totalBytes: 0, filesystems: [] },
  };
}

describe('traffic rates between two readings', () => {
  it('divides the growth of each counter by the seconds between the gateway’s own times', () => {
    const rates = trafficRates(stats('2026-11-23T13:00:00.000Z', 2, 0), stats('2026-11-23T13:00:02.000Z', 6, 5000));
    expect(rates).toEqual({ uploads: 2, uploadBytes: 2000, downloads: 0, downloadBytes: 2500, refused: 0 });
  });

  it('has none for the first reading, no time between, or counters that restarted from zero', () => {
    const later = stats('2026-11-23T13:00:02.000Z', 1, 0);
    expect(trafficRates(undefined, later)).toBeUndefined();
    expect(trafficRates(later, later)).toBeUndefined();
    expect(trafficRates(stats('2026-11-23T13:00:00.000Z', 9, 0), later)).toBeUndefined();
  });
});

describe('event log lines', () => {
  const at = '2026-11-23T13:05:12.000Z';
  const now = new Date(at);
  const id = '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21';
  const line = (event: LegimEvent) => {
    const { label, detail, color } = eventLine(event, now);
    return { label, detail, color };
  };

  it('one line per kind, coloured by kind', () => {
    expect(line({ type: 'file.uploaded', at, fileId: id, size: 81_000, contentType: 'image/jpeg' })).toEqual({
      label: 'uploaded',
      detail: `${id}  81 kB image/jpeg`,
      color: 'green',
    });
    expect(line({ type: 'file.downloaded', at, fileId: id, downloadsLeft: 0, bytes: 81_000 }).detail).toBe(
      `${id}  81 kB, 0 left`,
    );
    expect(line({ type: 'file.processed', at, fileId: id, status: 'failed' }).color).toBe('yellow');
    expect(line({ type: 'file.deleted', at, fileId: id, reason: 'used-up' }).detail).toBe(`${id}  no downloads left`);
    expect(line({ type: 'node.status', at, nodeId: 'n-1', status: 'down', previous: 'suspect' })).toEqual({
      label: 'node',
      detail: 'n-1  suspect → down',
      color: 'red',
    });
    expect(line({ type: 'node.joined', at, nodeId: 'n-2', url: 'http://h:1', parentId: 'n-1' }).detail).toBe(
      'n-2  http://h:1 under n-1',
    );
    expect(line({ type: 'replica.repaired', at, fileId: id, blobKey: 'k', nodeId: 'n-3' }).detail).toBe(
      `${id}  copy made on n-3`,
    );
    // The local time of the event.
    expect(eventLine({ type: 'file.processed', at, fileId: id, status: 'ready' }, now).time).toMatch(/^\d\d:\d\d:12$/);
  });
});
