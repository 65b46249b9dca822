import { LegimError, formatDuration, parseDuration } from '@legim/sdk';
import type { GatewayConfig } from '../config.js';

export interface UploadOptions {
  maxDownloads: number;
  ttlSeconds: number;
  title: string;
}

const MAX_TITLE = 200;

/** Validates `downloads`, `ttl` and `title` against the server's limits. */
export function parseUploadOptions(
  fields: Record<string, string>,
  fileName: string | undefined,
  config: GatewayConfig,
): UploadOptions {
  return {
    maxDownloads: downloads(fields['downloads'], config),
    ttlSeconds: ttl(fields['ttl'], config),
    title: title(fields['title'] ?? fileName ?? ''),
  };
}

function downloads(raw: string | undefined, config: GatewayConfig): number {
  if (raw === undefined || raw === '') return config.defaultDownloads;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > config.maxDownloads) {
    throw new LegimError(
      'INVALID_OPTION',
      `downloads must be a whole number from 1 to ${config.maxDownloads}, got "${raw}"`,
    );
  }
  return value;
}

function ttl(raw: string | undefined, config: GatewayConfig): number {
  if (raw === undefined || raw === '') return config.defaultTtlSeconds;
  const seconds = parseDuration(raw);
  if (seconds > config.maxTtlSeconds) {
    // Durations read as people write them (30d, not 2592000s); bare seconds (what the SDK sends) likewise.
    const asked = /^\s*\d+\s*$/.test(raw) ? formatDuration(seconds) : raw.trim();
    throw new LegimError(
      'INVALID_OPTION',
      `ttl must be at most ${formatDuration(config.maxTtlSeconds)} on this server, got ${asked}`,
    );
  }
  return seconds;
}

function title(raw: string): string {
  // Control characters would break headers and terminals.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const cleaned = raw.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (cleaned.length > MAX_TITLE)
    throw new LegimError('INVALID_OPTION', `title must be at most ${MAX_TITLE} characters`);
  return cleaned;
}
