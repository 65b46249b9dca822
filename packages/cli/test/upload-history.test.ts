import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FORGET_AFTER_MS, UploadHistory, type RememberedUpload } from '../src/upload-history.js';

const dir = mkdtempSync(join(tmpdir(), 'legim-history-'));
process.env.XDG_CONFIG_HOME = dir;

function upload(id: string, expiresAt: number): RememberedUpload {
  return {
    id,
    url: `http://h/d/${id}`,
    title: id,
    deleteToken: `token-${id}`,
    expiresAt: new Date(expiresAt).toISOString(),
    uploadedAt: new Date(expiresAt - 1000).toISOString(),
  };
}

describe('UploadHistory', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps uploads per server URL (dots and all), updates and forgets them, and prunes the long expired', () => {
    const history = new UploadHistory();
    const now = Date.now();
    const [a, b] = ['http://127.0.0.1:3333', 'https://img.example.com'];
    history.remember(a, upload('one', now + 1000), now);
    history.remember(a, upload('two', now + 2000), now);
    history.remember(b, upload('three', now - FORGET_AFTER_MS + 60_000), now);
    expect(history.list(a).map((file) => file.id)).toEqual(['two', 'one']);
    expect(history.find(b, 'three')?.deleteToken).toBe('token-three');
    expect(history.find(b, 'one')).toBeUndefined();

    history.updateExpiry(a, 'one', new Date(now + 5000).toISOString(), now);
    expect(history.find(a, 'one')?.expiresAt).toBe(new Date(now + 5000).toISOString());
    history.forget(a, 'two', now);
    expect(history.list(a).map((file) => file.id)).toEqual(['one']);

    // A week past its expiry, a file is forgotten at the next write, and its server with it.
    history.remember(a, upload('four', now + 1000), now + 120_000);
    expect(history.list(b)).toEqual([]);
    expect(
      new UploadHistory()
        .list(a)
        .map((file) => file.id)
        .sort(),
    ).toEqual(['four', 'one']);
  });
});
