/**
 * Keys of blobs this node found corrupt and moved to quarantine, waiting to
 * be told to the gateway (in the `corrupt` field of joins). A key stays until
 * a join that carried it was confirmed, so a lost heartbeat loses nothing.
 */
export class CorruptReports {
  readonly #keys = new Set<string>();

  add(key: string): void {
    this.#keys.add(key);
  }

  /** The oldest `limit` keys not yet confirmed. */
  pending(limit: number): string[] {
    const keys: string[] = [];
    for (const key of this.#keys) {
      if (keys.length >= limit) break;
      keys.push(key);
    }
    return keys;
  }

  /** The gateway confirmed it got these. */
  delivered(keys: readonly string[]): void {
    for (const key of keys) this.#keys.delete(key);
  }
}
