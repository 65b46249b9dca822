import type { LegimEvent } from '@legim/sdk';
import { STATUS_COLOR } from '../node-cells.js';
import { formatBytes, formatLocalTime } from '../output.js';

/** One line of the event log, as plain text plus the colour of its kind. */
export interface EventLine {
  time: string;
  /** `uploaded`, `node`, `repaired`…: padded by the log, coloured. */
  label: string;
  detail: string;
  color: 'green' | 'yellow' | 'red' | 'cyan' | 'blue' | 'magenta' | 'gray';
}

const DELETE_REASONS: Record<string, string> = {
  deleted: 'deleted by its owner',
  expired: 'expired',
  'used-up': 'no downloads left',
};

export function eventLine(event: LegimEvent, now: Date = new Date()): EventLine {
  const date = new Date(event.at);
  const time = Number.isNaN(date.getTime()) ? '--:--:--' : formatLocalTime(date, now);
  switch (event.type) {
    case 'file.uploaded':
      return {
        time,
        label: 'uploaded',
        detail: `${event.fileId}  ${formatBytes(event.size)} ${event.contentType}`,
        color: 'green',
      };
    case 'file.downloaded':
      return {
        time,
        label: 'downloaded',
        detail: `${event.fileId}  ${formatBytes(event.bytes)}, ${event.downloadsLeft} left`,
        color: 'cyan',
      };
    case 'file.processed':
      return {
        time,
        label: 'processed',
        detail: `${event.fileId}  ${event.status}`,
        color: event.status === 'ready' ? 'blue' : 'yellow',
      };
    case 'file.deleted':
      return {
        time,
        label: 'deleted',
        detail: `${event.fileId}  ${DELETE_REASONS[event.reason] ?? event.reason}`,
        color: 'gray',
      };
    case 'node.status':
      return {
        time,
        label: 'node',
        detail: `${event.nodeId}  ${event.previous ?? 'new'} → ${event.status}`,
        color: STATUS_COLOR[event.status],
      };
    case 'node.joined':
      return {
        time,
        label: 'joined',
        detail: `${event.nodeId}  ${event.url}${event.parentId ? ` under ${event.parentId}` : ''}`,
        color: 'green',
      };
    case 'replica.repaired':
      return { time, label: 'repaired', detail: `${event.fileId}  copy made on ${event.nodeId}`, color: 'magenta' };
    case 'node.draining':
      return { time, label: 'draining', detail: event.draining.join(', '), color: 'yellow' };
    case 'node.removed':
      return { time, label: 'removed', detail: `${event.nodeId}  drained and removed`, color: 'gray' };
  }
}
