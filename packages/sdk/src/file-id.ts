import { LegimError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The last path segment after `/d/`, `/s/` or `/v1/files/`. */
const ID_IN_PATH = /(?:^|\/)(?:d|s|v1\/files)\/([^/]+)\/?$/;

/**
 * The file id in a bare id or a link: `https://host/d/<id>`,
 * `https://host/s/<id>` (the share page), `https://host/v1/files/<id>` (a query or fragment is ignored, so is a
 * trailing slash). Ids come back lower-case.
 *
 * @throws LegimError `INVALID_OPTION` if no UUID-shaped id is found
 * @example
 * fileIdFromUrl('http://127.0.0.1:3333/d/5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21');
 * // '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21'
 */
export function fileIdFromUrl(idOrUrl: string): string {
  const input = typeof idOrUrl === 'string' ? idOrUrl.trim() : '';
  if (UUID.test(input)) return input.toLowerCase();

  const match = ID_IN_PATH.exec(pathOf(input));
  const id = match?.[1] === undefined ? undefined : safeDecode(match[1]);
  if (id !== undefined && UUID.test(id)) return id.toLowerCase();

  throw new LegimError(
    'INVALID_OPTION',
    `not a Legim file id or link: ${JSON.stringify(String(idOrUrl))}; expected an id like ` +
      `5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21 or a link ending in /d/<id>, /s/<id> or /v1/files/<id>`,
  );
}

/** The path of an absolute URL, or the input up to any query or fragment. */
function pathOf(input: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    try {
      return new URL(input).pathname;
    } catch {
      return '';
    }
  }
  return input.replace(/[?#].*$/s, '');
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
