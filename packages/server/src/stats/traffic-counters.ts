import { LegimError } from '@legim/sdk';
import type { GatewayEvents } from '../events/gateway-events.js';

/** Why a download was refused: the file cannot be served (404, 410), as opposed to failures (503). */
export const REFUSAL_CODES = ['FILE_NOT_FOUND', 'DOWNLOADS_EXHAUSTED', 'EXPIRED', 'DELETED'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/**
 * What this gateway served since it started, counted in memory: uploads and
 * downloads from its own events, refused downloads from the errors they
 * were answered with.
 */
export class TrafficCounters {
  uploads = 0;
  uploadBytes = 0;
  downloads = 0;
  downloadBytes = 0;
  readonly refusals = new Map<RefusalCode, number>(REFUSAL_CODES.map((code) => [code, 0]));

  constructor(events: GatewayEvents) {
    events.listen(({ event }) => {
      if (event.type === 'file.uploaded') {
        this.uploads++;
        this.uploadBytes += event.size;
      } else if (event.type === 'file.downloaded') {
        this.downloads++;
        this.downloadBytes += event.bytes;
      }
    });
  }

  get refused(): number {
    let sum = 0;
    for (const count of this.refusals.values()) sum += count;
    return sum;
  }

  /** Counts a download answered with `error` if it was a refusal. */
  countRefusal(error: unknown): void {
    if (!LegimError.is(error)) return;
    const count = this.refusals.get(error.code as RefusalCode);
    if (count !== undefined) this.refusals.set(error.code as RefusalCode, count + 1);
  }
}
