import type { UploadedFile } from '@legim/sdk';

/**
 * Whether the client asked for text rather than JSON: the type it ranks
 * higher in `Accept` (a named type over a wildcard), or `byDefault` when it
 * ranks neither (no header, or curl's `*\/*`).
 */
export function prefersText(accept: string | undefined, byDefault: boolean): boolean {
  const text = rank(accept, 'text/plain');
  const json = rank(accept, 'application/json');
  return text === json ? byDefault : text > json;
}

/** The quality `accept` gives `type` by name, a little less for a wildcard match, 0 when it does not list it. */
function rank(accept: string | undefined, type: string): number {
  let best = 0;
  for (const entry of (accept ?? '').split(',')) {
    const [range = '', ...params] = entry.split(';').map((part) => part.trim().toLowerCase());
    const q = Number(params.find((param) => param.startsWith('q='))?.slice(2) ?? 1);
    const named = range === type;
    if (!named && range !== `${type.split('/')[0]}/*`) continue;
    best = Math.max(best, Number.isFinite(q) ? q * (named ? 1 : 0.99) : 0);
  }
  return best;
}

/**
 * An upload's answer for a shell: the link alone on the first line (so
 * `| head -1` is enough), then one `key: value` line per fact.
 */
export function uploadText(file: UploadedFile, publicUrl: string): string {
  const deleteUrl = `${publicUrl}/v1/files/${file.id}?token=${encodeURIComponent(file.deleteToken)}`;
  const lines = [
    file.url,
    `share: ${file.shareUrl}`,
    `id: ${file.id}`,
    `downloads: ${file.maxDownloads}`,
    `expires: ${file.expiresAt}`,
    `delete-token: ${file.deleteToken}`,
    `delete: curl -X DELETE '${deleteUrl}'`,
  ];
  return `${lines.join('\n')}\n`;
}
