import { describe, expect, it } from 'vitest';
import { parseWorkerConfig } from '../src/workers/worker-config.js';

const SECRET = 'a-cluster-secret-0123456789';
const AMQP = 'amqp://guest:guest@127.0.0.1:5672';

describe('parseWorkerConfig: where the metadata comes from', () => {
  it('--gateway with the secret: remote, URL normalised, no data directory', () => {
    const config = parseWorkerConfig({ flags: { gateway: 'http://10.0.0.6:3333/', secret: SECRET, amqp: AMQP } });
    expect(config.gateway).toEqual({ url: 'http://10.0.0.6:3333', clusterSecret: SECRET });
    expect(config.dataDir).toBeUndefined();
    expect(config).toMatchObject({ amqpUrl: AMQP, concurrency: 2, queuePrefix: 'legim' });
  });

  it('takes LEGIM_GATEWAY_URL and LEGIM_CLUSTER_SECRET from the environment', () => {
    const config = parseWorkerConfig({
      env: { LEGIM_GATEWAY_URL: 'https://img.example.com/legim', LEGIM_CLUSTER_SECRET: SECRET },
    });
    expect(config.gateway).toEqual({ url: 'https://img.example.com/legim', clusterSecret: SECRET });
  });

  it('--data wins over LEGIM_GATEWAY_URL (flags win over the environment)', () => {
    const config = parseWorkerConfig({
      flags: { data: '/var/lib/legim/gateway' },
      env: { LEGIM_GATEWAY_URL: 'http://10.0.0.6:3333', LEGIM_CLUSTER_SECRET: SECRET },
    });
    expect(config.gateway).toBeUndefined();
    expect(config.dataDir).toBe('/var/lib/legim/gateway');
  });

  it('without --gateway: the gateway data directory, as before', () => {
    const config = parseWorkerConfig({ env: { XDG_DATA_HOME: '/data' } });
    expect(config.gateway).toBeUndefined();
    expect(config.dataDir).toBe('/data/legim/gateway');
  });

  it.each([
    [{ gateway: 'http://10.0.0.6:3333' }, /needs the cluster secret.*--secret or LEGIM_CLUSTER_SECRET/],
    [{ gateway: 'http://10.0.0.6:3333', secret: 'short' }, /at least 16 characters/],
    [{ gateway: 'ftp://10.0.0.6', secret: SECRET }, /invalid gateway: expected the gateway's http\(s\) URL/],
    [{ gateway: 'not a url', secret: SECRET }, /invalid gateway/],
    [{ gateway: 'http://10.0.0.6:3333', data: '/d', secret: SECRET }, /either --gateway .* or --data .*, not both/],
  ])('refuses %j with INVALID_OPTION', (flags, message) => {
    const error = (() => {
      try {
        parseWorkerConfig({ flags });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: 'INVALID_OPTION' });
    expect((error as Error).message).toMatch(message);
  });
});

describe('parseWorkerConfig: CPU priority', () => {
  it('leaves the priority alone unless asked, and takes --nice or LEGIM_WORKER_NICE', () => {
    expect(parseWorkerConfig({ flags: { data: '/d' } }).nice).toBeUndefined();
    expect(parseWorkerConfig({ flags: { data: '/d', nice: '10' } }).nice).toBe(10);
    expect(parseWorkerConfig({ flags: { data: '/d' }, env: { LEGIM_WORKER_NICE: '19' } }).nice).toBe(19);
    expect(parseWorkerConfig({ flags: { data: '/d', nice: 0 }, env: { LEGIM_WORKER_NICE: '19' } }).nice).toBe(0);
  });

  it.each(['-1', '20', '2.5', 'low', true])('refuses nice %j with INVALID_OPTION', (nice) => {
    expect(() => parseWorkerConfig({ flags: { data: '/d', nice } })).toThrow(
      /invalid nice: expected a whole number from 0/,
    );
  });
});
