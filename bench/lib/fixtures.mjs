import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { fixturesDir } from './paths.mjs';

export const SMALL_BYTES = 20 * 1024;

/**
 * The two images of the download benchmark: a real JPEG padded to an exact
 * size with deterministic pseudo-random bytes after its end-of-image marker
 * (the gateway accepts trailing data), and the 1 MB camera photo as is.
 */
export async function makeImages(dir) {
  const small = await padTo(await smallJpeg(), SMALL_BYTES);
  const large = readFileSync(join(fixturesDir, 'photo-camera-exif-dune-1680x1050.jpg'));
  const images = { small: { name: 'img-20k.jpg', bytes: small }, large: { name: 'img-1m.jpg', bytes: large } };
  for (const image of Object.values(images)) {
    image.path = join(dir, image.name);
    image.size = image.bytes.length;
    writeFileSync(image.path, image.bytes, { mode: 0o644 });
  }
  return images;
}

async function smallJpeg() {
  const source = join(fixturesDir, 'photo-small-flower-1600x1203.jpg');
  // Largest quality that still fits, so the padding stays small.
  for (let quality = 90; quality >= 30; quality -= 10) {
    const jpeg = await sharp(source).resize(320).jpeg({ quality }).toBuffer();
    if (jpeg.length <= SMALL_BYTES) return jpeg;
  }
  throw new Error('could not make a JPEG under 20 KiB');
}

function padTo(jpeg, size) {
  const padding = [];
  let length = 0;
  for (let block = 0; length < size - jpeg.length; block++) {
    const chunk = createHash('sha256').update(`legim-bench-${block}`).digest();
    padding.push(chunk);
    length += chunk.length;
  }
  return Buffer.concat([jpeg, ...padding]).subarray(0, size);
}
