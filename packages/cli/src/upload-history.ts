import Conf from 'conf';

/** What the CLI remembers of a file it uploaded: enough to list, change and delete it without the admin key. */
export interface RememberedUpload {
  id: string;
  /** The download link. */
  url: string;
  title: string;
  deleteToken: string;
  /** ISO 8601, as the gateway last said. */
  expiresAt: string;
  uploadedAt: string;
}

/** By server URL, then by file id. */
type Stored = Record<string, Record<string, RememberedUpload>>;

/**
 * Kept this long past its expiry, the time the gateway still answers 410
 * with the file's end (its tombstone) rather than 404; then forgotten.
 */
export const FORGET_AFTER_MS = 7 * 24 * 3600 * 1000;

/**
 * The files this user uploaded with the CLI, per server URL, in a file of
 * their own beside the settings (`uploads.json`, private to the user: it
 * holds delete tokens). Entries long expired are pruned at every write.
 */
export class UploadHistory {
  #store: Conf<Stored> | undefined;

  get #conf(): Conf<Stored> {
    // Server URLs have dots: keys are never read as dot-separated paths.
    this.#store ??= new Conf<Stored>({
      projectName: 'legim',
      projectSuffix: '',
      configName: 'uploads',
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
    });
    return this.#store;
  }

  /** The history file's path (it may not exist yet). */
  get path(): string {
    return this.#conf.path;
  }

  remember(server: string, upload: RememberedUpload, now = Date.now()): void {
    this.#write(server, (files) => ({ ...files, [upload.id]: upload }), now);
  }

  find(server: string, id: string): RememberedUpload | undefined {
    return this.#conf.get(server)?.[id];
  }

  /** This server's files, the latest upload first. */
  list(server: string): RememberedUpload[] {
    return Object.values(this.#conf.get(server) ?? {}).sort((x, y) => y.uploadedAt.localeCompare(x.uploadedAt));
  }

  /** The gateway changed the file's expiry. */
  updateExpiry(server: string, id: string, expiresAt: string, now = Date.now()): void {
    this.#write(server, (files) => (files[id] ? { ...files, [id]: { ...files[id], expiresAt } } : files), now);
  }

  forget(server: string, id: string, now = Date.now()): void {
    this.#write(server, (files) => Object.fromEntries(Object.entries(files).filter(([key]) => key !== id)), now);
  }

  #write(
    server: string,
    change: (files: Record<string, RememberedUpload>) => Record<string, RememberedUpload>,
    now: number,
  ): void {
    const stored = { ...this.#conf.store, [server]: change(this.#conf.get(server) ?? {}) };
    const kept = Object.fromEntries(
      Object.entries(stored)
        .map(([url, files]) => [url, withoutForgotten(files, now)] as const)
        .filter(([, files]) => Object.keys(files).length > 0),
    );
    this.#conf.store = kept;
  }
}

function withoutForgotten(files: Record<string, RememberedUpload>, now: number): Record<string, RememberedUpload> {
  return Object.fromEntries(
    Object.entries(files).filter(([, file]) => Date.parse(file.expiresAt) + FORGET_AFTER_MS > now),
  );
}
