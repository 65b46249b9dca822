import type { Command } from 'commander';

/** The flags every process that makes or removes previews takes alike: `legim server start` and `legim worker`. */
export const PREVIEW_FLAGS = ['variants', 'purgeUrl', 'purgeMethod', 'purgeHeader'] as const;

/** Adds the preview flags (which previews are made, and the CDN purge hook) to `command`. */
export function withPreviewOptions(command: Command): Command {
  return command
    .option(
      '--variants <names>',
      'previews made of each image, from thumb,small,webp,avif (default thumb,small,webp; env LEGIM_VARIANTS)',
    )
    .option(
      '--purge-url <template>',
      'tell a CDN when a file is gone before its expiry: a URL with {path} (one request per preview) or {id} (env LEGIM_PURGE_URL)',
    )
    .option('--purge-method <method>', 'POST (default), PURGE, DELETE or GET (env LEGIM_PURGE_METHOD)')
    .option('--purge-header <header>', 'one header for the purge requests, "Name: value" (env LEGIM_PURGE_HEADER)');
}
