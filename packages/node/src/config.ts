import { resolve } from 'node:path';
import { LegimError } from '@legim/sdk';
import { parse as parseYaml } from 'yaml';
import { parseByteSize } from './byte-size.js';
import { isLoopbackHost } from './tls/peer-policy.js';
import { loadTlsSettings, type TlsSettings } from './tls/tls-settings.js';

/** A storage node's settings, validated; built by {@link parseNodeConfig}. */
export interface NodeConfig {
  /**
   * Interface to listen on. Default `127.0.0.1`, or `0.0.0.0` when the parent
   * or the advertised URL is on another machine.
   */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Absolute path of the data folder. */
  dataDir: string;
  /** The parent node or gateway; absent for a node that joins nothing. */
  parentUrl?: string;
  secret: string;
  /** The URL the gateway uses to reach this node; default `http(s)://<host>:<port>`. */
  advertiseUrl?: string;
  /** HTTPS and the CA peers are checked against; plain HTTP when absent. */
  tls?: TlsSettings;
  capacityBytes?: number;
  heartbeatMs: number;
  /** Bytes per second the scrubber reads at most; 0 turns scrubbing off (default 32 MiB/s). */
  scrubRate?: number;
  /** Pause between two full scrub passes (default 1 h); not a flag, for tests and embedders. */
  scrubIntervalMs?: number;
}

/** Command-line flags as a parser such as commander hands them over. */
export interface NodeConfigFlags {
  host?: string;
  port?: string | number;
  data?: string;
  /** `http://10.0.0.6:3333` or `10.0.0.6:3333`. */
  parent?: string;
  secret?: string;
  advertise?: string;
  /** e.g. `10GB`. */
  capacity?: string | number;
  heartbeatMs?: string | number;
  /** e.g. `32MB` or `32MB/s` (bytes per second); `0` turns scrubbing off. */
  scrubRate?: string | number;
  /** PEM files: this node's certificate and key (then it serves HTTPS), and the CA its peers must chain to. */
  tlsCert?: string;
  tlsKey?: string;
  ca?: string;
  /** Sends the cluster secret to an http:// parent on loopback although this node uses TLS. */
  allowHttpLoopback?: boolean | string;
}

export interface ParseNodeConfigInput {
  flags?: NodeConfigFlags;
  env?: Record<string, string | undefined>;
  /** The text of a YAML config file (`--config node.yaml`). */
  yamlText?: string;
  /** Base for a relative data folder; defaults to the current directory. */
  cwd?: string;
}

type Settings = Omit<NodeConfigFlags, 'port' | 'capacity' | 'heartbeatMs' | 'allowHttpLoopback'> & {
  allowHttpLoopback?: boolean | string;
  port?: string | number;
  capacity?: string | number;
  heartbeatMs?: string | number;
};

const DEFAULT_PORT = 8888;
const DEFAULT_HEARTBEAT_MS = 1000;

/**
 * Builds a {@link NodeConfig} from flags, environment and an optional YAML
 * file, in that order of precedence, and validates it once, here. Throws
 * `INVALID_OPTION` with a message that names the fix.
 *
 * @example
 * parseNodeConfig({ flags: { port: '8888', parent: '10.0.0.6:3333' }, env: process.env });
 */
export function parseNodeConfig(input: ParseNodeConfigInput): NodeConfig {
  const env = input.env ?? {};
  const variable = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const fromEnv: Settings = {
    secret: variable('LEGIM_CLUSTER_SECRET'),
    port: variable('LEGIM_NODE_PORT'),
    data: variable('LEGIM_NODE_DATA'),
    parent: variable('LEGIM_PARENT'),
    tlsCert: variable('LEGIM_TLS_CERT'),
    tlsKey: variable('LEGIM_TLS_KEY'),
    ca: variable('LEGIM_CA'),
    allowHttpLoopback: variable('LEGIM_ALLOW_HTTP_LOOPBACK'),
  };
  const fromYaml = input.yamlText === undefined ? {} : settingsFromYaml(input.yamlText);
  const merged = mergeDefined(fromYaml, fromEnv, input.flags ?? {});

  const secret = merged.secret;
  if (secret === undefined || secret === '') {
    throw new LegimError(
      'INVALID_OPTION',
      'a storage node needs the cluster secret: pass --secret or set LEGIM_CLUSTER_SECRET',
    );
  }
  const port = parsePort(merged.port ?? DEFAULT_PORT, 'port');
  const parentUrl = merged.parent === undefined ? undefined : parseParentAddress(merged.parent);
  const advertiseUrl = merged.advertise === undefined ? undefined : parseHttpUrl(merged.advertise, 'advertise');
  const tls = loadTlsSettings({
    cert: merged.tlsCert,
    key: merged.tlsKey,
    ca: merged.ca,
    allowHttpLoopback: parseSwitch(merged.allowHttpLoopback, 'allowHttpLoopback'),
  });
  if (tls.identity !== undefined && advertiseUrl?.startsWith('http:')) {
    throw new LegimError(
      'INVALID_OPTION',
      `advertise ${advertiseUrl} is http:// but this node serves HTTPS (--tls-cert): advertise an https:// URL`,
    );
  }
  const config: NodeConfig = {
    host: merged.host ?? defaultHost(parentUrl, advertiseUrl),
    port,
    dataDir: resolve(input.cwd ?? process.cwd(), merged.data ?? `.legim/node-${port}`),
    secret,
    heartbeatMs: parseHeartbeat(merged.heartbeatMs ?? DEFAULT_HEARTBEAT_MS),
  };
  if (tls.peers.required) config.tls = tls;
  if (parentUrl !== undefined) config.parentUrl = parentUrl;
  if (advertiseUrl !== undefined) config.advertiseUrl = advertiseUrl;
  if (merged.capacity !== undefined) config.capacityBytes = parseByteSize(merged.capacity, 'capacity');
  if (merged.scrubRate !== undefined) config.scrubRate = parseScrubRate(merged.scrubRate);
  return config;
}

/**
 * Loopback unless the node is evidently part of a multi-host cluster (its
 * parent or advertised address is another machine): then every interface, or
 * the documented YAML example would register a node its parent cannot reach.
 */
function defaultHost(parentUrl: string | undefined, advertiseUrl: string | undefined): string {
  const remote = [parentUrl, advertiseUrl].some((url) => url !== undefined && !isLoopbackHost(new URL(url).hostname));
  return remote ? '0.0.0.0' : '127.0.0.1';
}

function parseSwitch(value: boolean | string | undefined, optionName: string): boolean {
  if (value === undefined || typeof value === 'boolean') return value ?? false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new LegimError('INVALID_OPTION', `${optionName} must be true or false, got "${value}"`);
}

/** Later sources win; `undefined` never overrides a value. */
function mergeDefined(...sources: Settings[]): Settings {
  const merged: Record<string, unknown> = {};
  for (const source of sources) {
    for (const [name, value] of Object.entries(source)) if (value !== undefined) merged[name] = value;
  }
  return merged;
}

function settingsFromYaml(text: string): Settings {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new LegimError('INVALID_OPTION', `the config file is not valid YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (document === null || document === undefined) return {};
  const root = requireMapping(document, 'the config file');
  // Other top-level sections may configure other parts of Legim, so only ours are checked strictly.
  const node = root.node === undefined ? {} : requireMapping(root.node, 'node', ['port', 'data', 'advertise', 'host']);
  const settings: Settings = {
    host: optionalString(node.host, 'node.host'),
    port: optionalScalar(node.port, 'node.port'),
    data: optionalString(node.data, 'node.data'),
    advertise: optionalString(node.advertise, 'node.advertise'),
    secret: optionalString(root.secret, 'secret'),
    capacity: optionalScalar(root.capacity, 'capacity'),
    heartbeatMs: optionalScalar(root.heartbeatMs, 'heartbeatMs'),
    scrubRate: optionalScalar(root.scrubRate, 'scrubRate'),
  };
  if (root.parent !== undefined) settings.parent = parentFromYaml(root.parent);
  return settings;
}

function parentFromYaml(value: unknown): string {
  if (typeof value === 'string') return value;
  const parent = requireMapping(value, 'parent', ['ip', 'host', 'port', 'url']);
  if (parent.url !== undefined) return requireString(parent.url, 'parent.url');
  const host = parent.ip ?? parent.host;
  if (host === undefined || parent.port === undefined) {
    throw new LegimError(
      'INVALID_OPTION',
      'parent needs either url, or ip and port (e.g. parent: {ip: 10.0.0.6, port: 3333})',
    );
  }
  const port = parsePort(optionalScalar(parent.port, 'parent.port') ?? '', 'parent.port');
  return `http://${bracketIpv6(requireString(host, 'parent.ip'))}:${port}`;
}

/** `http(s)://host:port` as given, or `host:port` meaning plain http. */
function parseParentAddress(value: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return parseHttpUrl(value, 'parent');
  if (!/:\d+\/?$/.test(value)) {
    throw new LegimError(
      'INVALID_OPTION',
      `parent "${value}" needs a port, e.g. 10.0.0.6:3333 or http://10.0.0.6:3333`,
    );
  }
  return parseHttpUrl(`http://${value}`, 'parent');
}

function parseHttpUrl(value: string, optionName: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LegimError('INVALID_OPTION', `${optionName} must be a URL like http://10.0.0.7:8888, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LegimError('INVALID_OPTION', `${optionName} must be an http:// or https:// URL, got "${value}"`);
  }
  return url.href.replace(/\/+$/, '');
}

function parsePort(value: string | number, optionName: string): number {
  const port = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LegimError('INVALID_OPTION', `${optionName} must be a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

function parseHeartbeat(value: string | number): number {
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(ms) || ms < 10 || ms > 60_000) {
    throw new LegimError(
      'INVALID_OPTION',
      `heartbeatMs must be a whole number of milliseconds from 10 to 60000, got "${value}"`,
    );
  }
  return ms;
}

function parseScrubRate(value: string | number): number {
  const rate = typeof value === 'string' ? value.trim().replace(/\/s$/i, '') : value;
  return rate === 0 || rate === '0' ? 0 : parseByteSize(rate, 'scrubRate');
}

function requireMapping(value: unknown, where: string, allowedKeys?: string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LegimError('INVALID_OPTION', `${where} must be a mapping of keys to values`);
  }
  const mapping = value as Record<string, unknown>;
  const unknown = allowedKeys ? Object.keys(mapping).filter((key) => !allowedKeys.includes(key)) : [];
  if (unknown.length > 0) {
    throw new LegimError(
      'INVALID_OPTION',
      `unknown key ${where}.${unknown[0]}: expected one of ${allowedKeys?.join(', ')}`,
    );
  }
  return mapping;
}

function requireString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new LegimError(
      'INVALID_OPTION',
      `${where} must be a non-empty string (quote it in YAML if it looks like a number)`,
    );
  }
  return value;
}

function optionalString(value: unknown, where: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, where);
}

function optionalScalar(value: unknown, where: string): string | number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' || typeof value === 'string') return value;
  throw new LegimError('INVALID_OPTION', `${where} must be a number or a string`);
}

function bracketIpv6(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
