import type { CachedFile, MetadataCache } from './metadata-cache.js';

interface Entry {
  value: CachedFile;
  expiresAt: number;
}

/** A bounded, time-limited cache in the gateway's memory (the embedded default). */
export class InProcessMetadataCache implements MetadataCache {
  // A Map iterates in insertion order, which makes evicting the oldest entry cheap.
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: { maxEntries: number; ttlMs: number } = { maxEntries: 10_000, ttlMs: 5000 }) {}

  get(id: string): CachedFile | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.value;
  }

  set(id: string, value: CachedFile): void {
    this.entries.delete(id);
    this.entries.set(id, { value, expiresAt: Date.now() + this.options.ttlMs });
    if (this.entries.size > this.options.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  async invalidate(id: string): Promise<void> {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
