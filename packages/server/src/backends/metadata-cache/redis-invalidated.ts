import type { Redis } from 'ioredis';
import { InProcessMetadataCache } from './in-process.js';
import type { CachedFile, MetadataCache } from './metadata-cache.js';

/**
 * Each gateway keeps hot metadata in its own memory (a local SQLite read is
 * cheaper than a Redis round trip, so the values stay here) and Redis
 * pub/sub carries invalidations to every gateway at once. While the
 * subscription is down an invalidation could be missed, so the cache is
 * emptied and bypassed until it is back.
 */
export class RedisInvalidatedCache implements MetadataCache {
  private readonly local = new InProcessMetadataCache();
  private subscribed = false;
  private readonly channel: string;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
  ) {
    this.channel = `${prefix}invalidate`;
  }

  /** `publisher` is the shared command connection; the subscription gets its own. */
  static open(publisher: Redis, prefix: string): RedisInvalidatedCache {
    const subscriber = publisher.duplicate({ autoResubscribe: false, enableOfflineQueue: true });
    const cache = new RedisInvalidatedCache(publisher, subscriber, prefix);
    subscriber.on('message', (_channel: string, id: string) => void cache.local.invalidate(id));
    subscriber.on('error', () => {
      // The command connection reports outages.
    });
    subscriber.on('close', () => cache.unsubscribed());
    subscriber.on('ready', () => void cache.subscribe());
    return cache;
  }

  get(id: string): CachedFile | undefined {
    return this.subscribed ? this.local.get(id) : undefined;
  }

  set(id: string, value: CachedFile): void {
    if (this.subscribed) this.local.set(id, value);
  }

  /**
   * A publish that fails (Redis unreachable) must not fail the delete that
   * already marked the index: gateways cut off from Redis bypass their cache
   * anyway, and a cached entry never lets a download through on its own (the
   * counter, on Redis or the index, refuses a deleted file).
   */
  async invalidate(id: string): Promise<void> {
    await this.local.invalidate(id);
    await this.publisher.publish(this.channel, id).catch(() => {});
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
      this.subscribed = true;
    } catch {
      // 'ready' fires again after the next reconnect.
    }
  }

  private unsubscribed(): void {
    this.subscribed = false;
    this.local.clear();
  }
}
