import type { Command } from 'commander';
import type { KeyQuotas, KeyScope } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { createdKeyView, keysTable, print, printJson, revokedKeyView } from '../output.js';
import { adminClient } from './admin-client.js';

interface CreateOptions {
  scope: string;
  maxBytes?: string;
  maxFiles?: string;
  maxFileSize?: string;
  maxTtl?: string;
  maxDownloads?: string;
  json?: boolean;
}

export function registerKeys(program: Command, context: CliContext): void {
  const keys = program.command('keys').description('API keys: who may upload, with what quotas (admin key)');

  keys
    .command('create')
    .description('make an API key; its secret is shown this once')
    .argument('<name>', 'what the key is for, e.g. the app or person using it')
    .option('--scope <scopes>', 'comma-separated: upload, read (list its own files), admin', 'upload')
    .option('--max-bytes <size>', 'bytes its live files may hold together, e.g. 10GB')
    .option('--max-files <n>', 'live files it may hold at once')
    .option('--max-file-size <size>', 'largest file it may upload, e.g. 20MB')
    .option('--max-ttl <duration>', 'longest time to live it may give a file, e.g. 7d')
    .option('--max-downloads <n>', 'most downloads it may give a file')
    .option('--json', 'print the key, with its secret, as JSON')
    .action(async (name: string, options: CreateOptions) => {
      const request = { name, scopes: scopes(options.scope), quotas: await quotas(options) };
      const key = await (await adminClient(context, 'keys create')).createKey(request);
      if (options.json) printJson(key);
      else print(createdKeyView(key));
    });

  keys
    .command('ls')
    .description('list the API keys, revoked ones too, with what their files hold')
    .option('--json', 'print the keys as JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await (await adminClient(context, 'keys ls')).keys();
      if (options.json) printJson(list);
      else print(keysTable(list));
    });

  keys
    .command('revoke')
    .description('revoke an API key: every gateway refuses it within a second; its files stay')
    .argument('<id>', 'the key id, as "legim keys ls" shows it')
    .option('--json', 'print the revoked key as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const key = await (await adminClient(context, 'keys revoke')).revokeKey(id);
      if (options.json) printJson(key);
      else print(revokedKeyView(key));
    });
}

function scopes(text: string): KeyScope[] {
  const list = text
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  const bad = list.find((scope) => !['upload', 'read', 'admin'].includes(scope));
  if (bad !== undefined || list.length === 0) {
    throw new CliError('INVALID_OPTION', `--scope: expected upload, read and/or admin, got "${text}"`);
  }
  return list as KeyScope[];
}

async function quotas(options: CreateOptions): Promise<KeyQuotas> {
  const [{ parseByteSize }, { parseDuration }] = await Promise.all([import('@legim/node'), import('@legim/sdk')]);
  const parse = <T>(flag: string, text: string | undefined, parser: (text: string) => T): T | undefined => {
    if (text === undefined) return undefined;
    try {
      return parser(text);
    } catch (error) {
      throw new CliError('INVALID_OPTION', `--${flag}: ${(error as Error).message}`);
    }
  };
  const count = (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < 1)
      throw new Error(`expected a whole number of at least 1, got "${text}"`);
    return Number(text);
  };
  const entries = {
    maxBytes: parse('max-bytes', options.maxBytes, (text) => parseByteSize(text, 'size')),
    maxFiles: parse('max-files', options.maxFiles, count),
    maxFileBytes: parse('max-file-size', options.maxFileSize, (text) => parseByteSize(text, 'size')),
    maxTtlSeconds: parse('max-ttl', options.maxTtl, parseDuration),
    maxDownloads: parse('max-downloads', options.maxDownloads, count),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}
