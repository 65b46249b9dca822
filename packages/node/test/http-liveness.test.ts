import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startTestNode } from './support.js';

describe('GET /livez on the storage node', () => {
  it('answers without the cluster secret, with a status and nothing else; every other route still needs it', async () => {
    const node = await startTestNode();
    const live = await request(`${node.url}/livez`);
    expect(live.statusCode).toBe(200);
    expect(await live.body.json()).toEqual({ status: 'ok' });
    const head = await request(`${node.url}/livez`, { method: 'HEAD' });
    await head.body.dump();
    expect(head.statusCode).toBe(200);
    for (const path of ['/health', '/stats', '/livez/', '/livez?x=1', '/blobs']) {
      const refused = await request(`${node.url}${path}`);
      await refused.body.dump();
      expect([path, refused.statusCode]).toEqual([path, 401]);
    }
  });
});
