import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@legim/node';
import { request } from 'undici';

/** Where and how a CDN takes purge requests; parsed and checked by the configuration. */
export interface PurgeSettings {
  /**
   * A URL template: `{path}` (a preview's path, e.g. `/v1/files/<id>/variants/thumb`)
   * makes one request per preview, else `{id}` one request per file.
   */
  template: string;
  method: 'POST' | 'PURGE' | 'DELETE' | 'GET';
  /** One header the CDN wants, such as its API key. */
  header?: { name: string; value: string };
}

const ATTEMPTS = 3;
const TIMEOUT_MS = 5000;
const RETRY_MS = 250;

/**
 * Tells a CDN to drop what it keeps of a file that is gone before its
 * expiry (a delete, its last download): its previews are cacheable until
 * the expiry (`Cache-Control` of previews), and an edge would otherwise go
 * on serving them. Best effort: a CDN that does not answer is logged, never
 * a reason to keep a file.
 */
export class CdnPurger {
  constructor(
    private readonly settings: PurgeSettings,
    /** Every preview name a file can have, `full` included. */
    private readonly previewNames: readonly string[],
    private readonly logger: Logger,
  ) {}

  /** Purges every cached preview of the file; resolves when each request succeeded or gave up. */
  async purge(fileId: string): Promise<void> {
    await Promise.all(this.urlsOf(fileId).map((url) => this.send(url)));
  }

  private urlsOf(fileId: string): string[] {
    const { template } = this.settings;
    const withId = template.replaceAll('{id}', fileId);
    if (!template.includes('{path}')) return [withId];
    return this.previewNames.map((name) => withId.replaceAll('{path}', `/v1/files/${fileId}/variants/${name}`));
  }

  private async send(url: string): Promise<void> {
    const { method, header } = this.settings;
    let failure = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const answer = await request(url, {
          method,
          headers: header ? { [header.name]: header.value } : {},
          headersTimeout: TIMEOUT_MS,
          bodyTimeout: TIMEOUT_MS,
        });
        await answer.body.dump();
        if (answer.statusCode < 300) return;
        failure = `answered ${answer.statusCode}`;
      } catch (error) {
        failure = (error as Error).message;
      }
      if (attempt < ATTEMPTS) await delay(RETRY_MS * 2 ** attempt);
    }
    // The query may hold the CDN's key: the log names the host and path only.
    const { origin, pathname } = new URL(url);
    this.logger.warn(
      `the CDN purge ${method} ${origin}${pathname} failed ${ATTEMPTS} times (${failure}); its edges keep the previews until they expire`,
    );
  }
}
