import { LegimError } from '@legim/sdk';
import { KEY_SCOPES, type KeyQuotas, type KeyScope } from './api-key.js';

/** What `POST /v1/keys` asks for, validated. */
export interface NewKey {
  name: string;
  scopes: KeyScope[];
  quotas: KeyQuotas;
}

const MAX_NAME = 100;
const QUOTA_NAMES: readonly (keyof KeyQuotas)[] = [
  'maxBytes',
  'maxFiles',
  'maxFileBytes',
  'maxTtlSeconds',
  'maxDownloads',
];
const FIELDS = new Set(['name', 'scopes', 'quotas']);

/** Validates a key request's JSON body; anything unknown is refused, not ignored. */
export function parseNewKey(body: unknown): NewKey {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('send a JSON object: {"name": "...", "scopes": ["upload"], "quotas": {...}}');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((field) => !FIELDS.has(field));
  if (unknown !== undefined) throw invalid(`unknown field "${unknown}": use name, scopes and quotas`);
  return { name: name(fields.name), scopes: scopes(fields.scopes), quotas: quotas(fields.quotas) };
}

function name(raw: unknown): string {
  // Control characters would break terminals and logs.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (typeof raw !== 'string' || /[\u0000-\u001f\u007f]/.test(raw) || raw.trim() === '' || raw.length > MAX_NAME) {
    throw invalid(`name must be 1 to ${MAX_NAME} printable characters`);
  }
  return raw.trim();
}

function scopes(raw: unknown): KeyScope[] {
  if (raw === undefined) return ['upload'];
  if (!Array.isArray(raw) || raw.length === 0) throw invalid('scopes must be a non-empty list of upload, read, admin');
  const bad: unknown = (raw as unknown[]).find((scope) => !KEY_SCOPES.includes(scope as KeyScope));
  if (bad !== undefined) throw invalid(`unknown scope ${JSON.stringify(bad)}: use upload, read or admin`);
  return KEY_SCOPES.filter((scope) => (raw as unknown[]).includes(scope));
}

function quotas(raw: unknown): KeyQuotas {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('quotas must be an object');
  const result: KeyQuotas = {};
  for (const [field, value] of Object.entries(raw)) {
    if (!QUOTA_NAMES.includes(field as keyof KeyQuotas)) {
      throw invalid(`unknown quota "${field}": use ${QUOTA_NAMES.join(', ')}`);
    }
    if (value === null) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw invalid(`quota ${field} must be a whole number of at least 1, got ${JSON.stringify(value)}`);
    }
    result[field as keyof KeyQuotas] = value;
  }
  return result;
}

function invalid(why: string): LegimError {
  return new LegimError('INVALID_OPTION', `invalid key: ${why}`);
}
