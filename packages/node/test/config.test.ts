import { describe, expect, it } from 'vitest';
import { parseByteSize, parseNodeConfig } from '../src/index.js';

const DOC_EXAMPLE = `
node:
  port: 8888
  data: /var/lib/legim/node
  # the URL the gateway uses to reach this node; default http://<host>:<port>
  advertise: http://10.0.0.7:8888
parent:
  ip: 10.0.0.6
  port: 3333
secret: the-cluster-secret
`;

describe('parseNodeConfig', () => {
  it('reads the YAML form of docs/node-api.md', () => {
    expect(parseNodeConfig({ yamlText: DOC_EXAMPLE })).toEqual({
      // The parent is another machine, so it must be able to reach this node.
      host: '0.0.0.0',
      port: 8888,
      dataDir: '/var/lib/legim/node',
      advertiseUrl: 'http://10.0.0.7:8888',
      parentUrl: 'http://10.0.0.6:3333',
      secret: 'the-cluster-secret',
      heartbeatMs: 1000,
    });
  });

  it('accepts parent: {url}, a capacity and a heartbeat', () => {
    const config = parseNodeConfig({
      yamlText:
        'parent: {url: "https://gw.example:3333/"}\nsecret: s\ncapacity: 10GB\nheartbeatMs: 250\nnode: {host: 0.0.0.0}\n',
      cwd: '/srv',
    });
    expect(config).toMatchObject({
      parentUrl: 'https://gw.example:3333',
      capacityBytes: 10_000_000_000,
      heartbeatMs: 250,
      host: '0.0.0.0',
    });
    expect(config.dataDir).toBe('/srv/.legim/node-8888');
  });

  it('lets flags override the environment, and the environment override YAML', () => {
    const env = {
      LEGIM_CLUSTER_SECRET: 'from-env',
      LEGIM_NODE_PORT: '7000',
      LEGIM_NODE_DATA: 'env-data',
      LEGIM_PARENT: '10.0.0.9:4000',
    };
    const fromEnv = parseNodeConfig({ env, yamlText: DOC_EXAMPLE, cwd: '/work' });
    expect(fromEnv).toMatchObject({
      secret: 'from-env',
      port: 7000,
      dataDir: '/work/env-data',
      parentUrl: 'http://10.0.0.9:4000',
    });

    const fromFlags = parseNodeConfig({
      env,
      yamlText: DOC_EXAMPLE,
      cwd: '/work',
      flags: {
        secret: 'from-flag',
        port: 0,
        data: '/abs',
        parent: 'http://p:1',
        capacity: '512MiB',
        advertise: 'http://me:1/',
      },
    });
    expect(fromFlags).toMatchObject({
      secret: 'from-flag',
      port: 0,
      dataDir: '/abs',
      parentUrl: 'http://p:1',
      capacityBytes: 512 * 2 ** 20,
      advertiseUrl: 'http://me:1',
    });
  });

  it('needs a secret and says how to give one', () => {
    expect(() => parseNodeConfig({ flags: { port: 1 } })).toThrow(/pass --secret or set LEGIM_CLUSTER_SECRET/);
    expect(() => parseNodeConfig({ env: { LEGIM_CLUSTER_SECRET: '' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });

  it.each([
    ['a bad port', { flags: { secret: 's', port: '80a' } }, /port must be a port number/],
    ['a port out of range', { flags: { secret: 's', port: 70000 } }, /port must be a port number/],
    ['a parent without port', { flags: { secret: 's', parent: '10.0.0.6' } }, /needs a port/],
    ['a parent of another scheme', { flags: { secret: 's', parent: 'ftp://x:1' } }, /http:\/\/ or https:\/\//],
    ['a bad capacity', { flags: { secret: 's', capacity: '10 parsecs' } }, /capacity must be a size like/],
    ['a zero capacity', { flags: { secret: 's', capacity: '0' } }, /positive size/],
    ['a bad heartbeat', { flags: { secret: 's', heartbeatMs: '5' } }, /heartbeatMs/],
    ['invalid YAML', { yamlText: 'node: [' }, /not valid YAML/],
    [
      'an unknown node key',
      { yamlText: 'secret: s\nnode: {prot: 1}' },
      /unknown key node.prot: expected one of port, data, advertise, host/,
    ],
    ['a half parent', { yamlText: 'secret: s\nparent: {ip: 10.0.0.6}' }, /parent needs either url, or ip and port/],
    ['a numeric secret', { yamlText: 'secret: 12345' }, /quote it/],
    ['a non-mapping node', { yamlText: 'secret: s\nnode: 8888' }, /node must be a mapping/],
  ])('refuses %s with INVALID_OPTION', (_name, input, message) => {
    expect(() => parseNodeConfig(input)).toThrow(message);
    expect(() => parseNodeConfig(input)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', statusCode: 400 }));
  });

  it('listens on loopback by default, unless the node joins another machine', () => {
    expect(parseNodeConfig({ flags: { secret: 's' } }).host).toBe('127.0.0.1');
    expect(parseNodeConfig({ flags: { secret: 's', parent: 'localhost:3333' } }).host).toBe('127.0.0.1');
    expect(
      parseNodeConfig({ flags: { secret: 's', parent: '127.0.0.1:3333', advertise: 'http://10.0.0.7:8888' } }).host,
    ).toBe('0.0.0.0');
    expect(parseNodeConfig({ flags: { secret: 's', parent: '10.0.0.6:3333', host: '10.0.0.7' } }).host).toBe(
      '10.0.0.7',
    );
  });

  it('brackets IPv6 parents', () => {
    expect(parseNodeConfig({ yamlText: 'secret: s\nparent: {ip: "fd00::6", port: 3333}' }).parentUrl).toBe(
      'http://[fd00::6]:3333',
    );
  });
});

describe('parseByteSize', () => {
  it('reads decimal and binary units', () => {
    expect(parseByteSize('10GB', 'capacity')).toBe(10e9);
    expect(parseByteSize('1.5 TiB', 'capacity')).toBe(1.5 * 2 ** 40);
    expect(parseByteSize('4096', 'capacity')).toBe(4096);
    expect(parseByteSize(100, 'capacity')).toBe(100);
    expect(parseByteSize('20mb', 'capacity')).toBe(20e6);
  });
});
