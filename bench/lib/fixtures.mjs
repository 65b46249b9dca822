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

export const PHOTO_WIDTH = 4000;
export const PHOTO_HEIGHT = 3000;

/**
 * The processing benchmark's 12-megapixel photo: `photo-large-bird-6028x3391.jpg`
 * (a real 20 MP camera photo) cropped to 4:3 and scaled to 4000×3000, baseline
 * JPEG q90, then `count` copies that differ only in a few bytes after the
 * end-of-image marker (each upload is its own file; the pixels are the same,
 * so every copy costs the same work). Written to dir for the raw reference.
 */
export async function makeProcessingPhotos(dir, count) {
  const source = join(fixturesDir, 'photo-large-bird-6028x3391.jpg');
  const jpeg = await sharp(source).resize(PHOTO_WIDTH, PHOTO_HEIGHT, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
  const copies = Array.from({ length: count }, (_, i) => {
    const bytes = Buffer.concat([jpeg, Buffer.from(`legim-bench-photo-${i}`)]);
    const path = join(dir, `photo-12mp-${i}.jpg`);
    writeFileSync(path, bytes, { mode: 0o644 });
    return { path, bytes };
  });
  return { name: 'photo-12mp.jpg', width: PHOTO_WIDTH, height: PHOTO_HEIGHT, size: jpeg.length, copies };
}
