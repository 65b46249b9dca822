import type { Logger } from '@legim/node';
import type { ResumeCreditStore } from '../backends/resume-credits/resume-credit-store.js';

/**
 * The rule of resume credits (docs/api.md, "Resuming"): a download cut
 * before its last byte leaves one for its client for `windowMs`; a `Range`
 * request of that client spends one instead of a download. A store that
 * cannot be reached never serves for free: no credit is left, and a resume
 * is counted as a download.
 */
export class ResumeCredits {
  constructor(
    private readonly store: ResumeCreditStore,
    private readonly windowMs: number,
    private readonly logger: Logger,
  ) {}

  leave(fileId: string, client: string): void {
    const now = Date.now();
    this.store.grant(fileId, client, now, now + this.windowMs).catch((error: unknown) => {
      this.logger.warn({ fileId, client }, `a resume credit could not be left: ${(error as Error).message}`);
    });
  }

  async spend(fileId: string, client: string): Promise<boolean> {
    try {
      return await this.store.take(fileId, client, Date.now());
    } catch (error) {
      this.logger.warn({ fileId, client }, `resume credits cannot be read: ${(error as Error).message}`);
      return false;
    }
  }

  prune(): Promise<void> {
    return this.store.prune(Date.now());
  }
}
