import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlobStore, type OpenedBlob } from '../src/index.js';
import { quietLogger, tempDir } from './support.js';

// Deterministic versions of the races that the concurrent tests only hit by
// chance: hooks hold a blob open, or a rename, until a write or delete has run.
const hooks = vi.hoisted(() => ({
  beforeOpen: undefined as ((path: string, flags: string) => Promise<void>) | undefined,
  beforeRename: undefined as ((to: string) => Promise<void>) | undefined,
}));

vi.mock('../src/fd-io.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/fd-io.js')>();
  return {
    ...real,
    openFd: async (path: string, flags: 'r' | 'wx') => {
      await hooks.beforeOpen?.(path, flags);
      return real.openFd(path, flags);
    },
  };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      await hooks.beforeRename?.(to);
      return real.rename(from, to);
    },
  };
});

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function openStore(dataDir?: string): Promise<BlobStore> {
  const store = new BlobStore({ dataDir: dataDir ?? (await tempDir()), logger: quietLogger });
  await store.init();
  return store;
}

function put(store: BlobStore, key: string, bytes: Buffer): Promise<unknown> {
  return store.put(key, Readable.from([bytes]), { sha256: sha256(bytes) });
}

async function contentOf(blob: OpenedBlob): Promise<Buffer> {
  return blob.bytes ?? buffer(blob.stream);
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

afterEach(() => {
  hooks.beforeOpen = undefined;
  hooks.beforeRename = undefined;
  vi.restoreAllMocks();
});

describe('BlobStore read races', () => {
  it('notices a replace that lands while a lock-free read is opening the blob', async () => {
    const store = await openStore();
    const [a, b] = [randomBytes(4000), randomBytes(4000)];
    await put(store, 'k', a);
    let clock = performance.now();
    vi.spyOn(performance, 'now').mockImplementation(() => (clock += 60_000)); // not warm: the asynchronous path
    const held = gate();
    const reached = gate();
    hooks.beforeOpen = async (path, flags) => {
      if (flags !== 'r' || !path.endsWith('/k')) return;
      hooks.beforeOpen = undefined;
      reached.open();
      await held.opened;
    };
    const reading = store.open('k');
    await reached.opened;
    await put(store, 'k', b);
    held.open();
    const blob = await reading;
    const content = await contentOf(blob);
    expect(sha256(content)).toBe(blob.sha256);
    expect(content).toEqual(b);
  });

  it.each([
    ['cached', false],
    ['not yet cached', true],
  ])(
    'never pairs the new sidecar with the old blob for a read of a %s blob during a replace',
    async (_name, restart) => {
      const dataDir = await tempDir();
      let store = await openStore(dataDir);
      const [a, b] = [randomBytes(3000), randomBytes(3000)];
      await put(store, 'k', a);
      await store.open('k');
      if (restart) store = await openStore(dataDir);
      const held = gate();
      const reached = gate();
      hooks.beforeRename = async (to) => {
        if (!to.endsWith('/k')) return; // the blob's rename; its sidecar is already in place
        hooks.beforeRename = undefined;
        reached.open();
        await held.opened;
      };
      const writing = put(store, 'k', b);
      await reached.opened;
      // The new sidecar is in place, the old blob still is: a read now must not pair them.
      const reading = store.open('k');
      held.open();
      await writing;
      const blob = await reading;
      const content = await contentOf(blob);
      expect(sha256(content)).toBe(blob.sha256);
      expect([sha256(a), sha256(b)]).toContain(blob.sha256);
    },
  );

  it('answers 404 to a read that was opening the blob while it was deleted', async () => {
    const store = await openStore();
    await put(store, 'k', randomBytes(100));
    let clock = performance.now();
    vi.spyOn(performance, 'now').mockImplementation(() => (clock += 60_000));
    const held = gate();
    hooks.beforeOpen = async (path, flags) => {
      if (flags === 'r' && path.endsWith('/k')) await held.opened;
    };
    const reading = store.open('k');
    await store.delete('k');
    held.open();
    await expect(reading).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
  });
});
