import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { noTokenHint } from '../file-list-view.js';
import type { UploadHistory } from '../upload-history.js';

/**
 * The token that allows changing or deleting a file: `--token`, else the
 * delete token this CLI remembered when it uploaded the file to `server`,
 * else undefined (the client's configured admin key is sent). Refuses
 * before asking when there is none of the three.
 */
export function fileToken(
  context: CliContext,
  history: UploadHistory,
  server: string,
  id: string,
  explicit: string | undefined,
  what: string,
): string | undefined {
  const token = explicit ?? history.find(server, id)?.deleteToken;
  if (token === undefined && context.settings.apiKey === undefined) throw new CliError('NO_TOKEN', noTokenHint(what));
  return token;
}
