#!/usr/bin/env node
// Shares an image through Legim: uploads it with 3 downloads and a 1 h expiry,
// prints the link, then downloads it once to a temporary file and checks that
// the SHA-256 of what came back is the SHA-256 of what went up.
//
//   npm run build                                  # once, builds @legim/sdk
//   node examples/share-image.mjs photo.jpg        # LEGIM_URL defaults to http://127.0.0.1:3333
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Legim, LegimError } from '@legim/sdk';

const path = process.argv[2];
if (!path) {
  console.error('usage: node examples/share-image.mjs <image file>');
  process.exit(1);
}

const legim = new Legim({ url: process.env.LEGIM_URL ?? 'http://127.0.0.1:3333' });

try {
  const file = await legim.upload(path, {
    downloads: 3,
    ttl: '1h',
    onProgress: ({ sent, total }) => {
      if (process.stderr.isTTY && total) process.stderr.write(`\ruploading ${Math.round((100 * sent) / total)}%`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(file.url);
  console.log(`${file.downloadsLeft} downloads left, expires ${new Date(file.expiresAt).toLocaleString()}`);

  const dir = await mkdtemp(join(tmpdir(), 'legim-example-'));
  try {
    // downloadTo takes one download, checks the bytes against the server's
    // ETag and only then renames the file into place.
    const saved = await legim.downloadTo(file.url, join(dir, basename(path)));
    const original = await sha256Of(path);
    if (saved.sha256 !== original) {
      console.error(`the download differs from ${path}: sha256 ${saved.sha256}, expected ${original}`);
      process.exit(1);
    }
    console.log(`downloaded ${saved.size} bytes once, SHA-256 verified (${saved.sha256})`);
    console.log(`${saved.downloadsLeft} downloads left`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
} catch (error) {
  if (!LegimError.is(error)) throw error;
  console.error(`${error.code}: ${error.message}`);
  process.exit(1);
}

async function sha256Of(file) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
