import type { ResumeCreditStore } from './resume-credit-store.js';

/**
 * Redis's credits, and the index's while Redis cannot be reached. A take
 * looks in Redis, then in the index, so a credit left during an outage is
 * still found once Redis is back; a credit left in Redis cannot be seen
 * during one, and the resume is then counted as a new download (never
 * served twice for free).
 */
export class FallbackResumeCredits implements ResumeCreditStore {
  constructor(
    private readonly redis: ResumeCreditStore,
    private readonly index: ResumeCreditStore,
    private readonly redisReady: () => boolean,
  ) {}

  async grant(fileId: string, client: string, now: number, until: number): Promise<void> {
    if (this.redisReady()) {
      try {
        return await this.redis.grant(fileId, client, now, until);
      } catch {
        // Redis went away since it was last ready: this credit, like the next ones, is the index's.
      }
    }
    await this.index.grant(fileId, client, now, until);
  }

  async take(fileId: string, client: string, now: number): Promise<boolean> {
    if (this.redisReady()) {
      try {
        if (await this.redis.take(fileId, client, now)) return true;
      } catch {
        // Redis went away: a credit left during an outage is in the index.
      }
    }
    return this.index.take(fileId, client, now);
  }

  async prune(now: number): Promise<void> {
    await this.index.prune(now);
  }
}
