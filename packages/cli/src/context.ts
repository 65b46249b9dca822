import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Legim } from '@legim/sdk';
import { CliError } from './errors.js';
import { Settings, normalizeServerUrl, type SettingFlags } from './settings.js';

/** What a command needs besides its own arguments; built once per run. */
export interface CliContext {
  /** The settings of the profile in use, with the global `--server`, `--ca` and `--profile` flags applied. */
  readonly settings: Settings;
  /** The global `--ca` flag as given: the processes `legim server|node|worker` start trust it too. */
  readonly caFlag: string | undefined;
  /** An SDK client for the configured server. */
  client(): Promise<Legim>;
  /**
   * The file id and a client for the server that holds it: a full link
   * (`https://other-host/d/<id>`) is fetched from its own host, and the
   * configured API key is sent only to the configured server.
   */
  clientFor(idOrUrl: string): Promise<{ id: string; legim: Legim }>;
  /** The server the last client was made for, for error messages. */
  readonly lastServer: string | undefined;
  /** The built CLI entry point, forked by `legim up`. */
  readonly cliPath: string;
  readonly env: NodeJS.ProcessEnv;
}

export function createContext(readGlobals: () => SettingFlags, env: NodeJS.ProcessEnv = process.env): CliContext {
  let settings: Settings | undefined;
  let lastServer: string | undefined;
  let ca: { pem: Buffer | undefined } | undefined;
  /** The CA's PEM for an https:// server, read once and only by commands that talk to one. */
  const trusted = (url: string): { ca?: Buffer } => {
    if (!url.startsWith('https:')) return {};
    ca ??= { pem: readCa(context.settings.ca) };
    return ca.pem === undefined ? {} : { ca: ca.pem };
  };

  const context: CliContext = {
    get settings() {
      const { server, ca, profile } = readGlobals();
      settings ??= new Settings({ env, flags: { server, ca, profile } });
      return settings;
    },
    get caFlag() {
      return readGlobals().ca;
    },
    async client() {
      const { Legim } = await loadSdk();
      const url = context.settings.server;
      lastServer = url;
      return new Legim({ url, apiKey: context.settings.apiKey, ...trusted(url) });
    },
    async clientFor(idOrUrl) {
      const { Legim, fileIdFromUrl } = await loadSdk();
      const id = fileIdFromUrl(idOrUrl);
      const configured = context.settings.resolve('server');
      const linkBase = baseOfLink(idOrUrl);
      // An explicit --server or LEGIM_URL wins over the link's host.
      const useLink = linkBase !== undefined && (configured.source === 'config' || configured.source === 'default');
      const url = useLink ? linkBase : context.settings.server;
      const sameServer = url === configured.value;
      lastServer = url;
      return {
        id,
        legim: new Legim({ url, apiKey: sameServer ? context.settings.apiKey : undefined, ...trusted(url) }),
      };
    },
    get lastServer() {
      return lastServer;
    },
    cliPath: fileURLToPath(new URL('./main.js', import.meta.url)),
    env,
  };
  return context;
}

function readCa(path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError(
      'INVALID_OPTION',
      `cannot read the CA file ${path} (${reason}): fix --ca, LEGIM_CA or "ca" in the settings`,
    );
  }
}

/** The SDK (and undici under it) loads only when a command talks to a server, so `--help` and `config` start fast. */
function loadSdk(): Promise<typeof import('@legim/sdk')> {
  return import('@legim/sdk');
}

/** `https://host/prefix/d/<id>` → `https://host/prefix`; undefined for a bare id. */
function baseOfLink(idOrUrl: string): string | undefined {
  if (!/^https?:\/\//i.test(idOrUrl.trim())) return undefined;
  const url = new URL(idOrUrl.trim());
  const path = url.pathname.replace(/\/(?:d|v1\/files)\/[^/]+\/?$/, '');
  return normalizeServerUrl(`${url.origin}${path}`);
}
