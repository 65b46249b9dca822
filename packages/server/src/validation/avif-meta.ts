/**
 * Reads the primary image size out of a HEIF `meta` box body held in memory
 * (at most 64 KiB): `pitm` names the primary item, `iprp/ipma` lists the
 * properties of each item and `iprp/ipco` holds them; the primary item's
 * `ispe` (image spatial extents) is its width and height. Without `pitm` or
 * `ipma`, the largest `ispe` is taken. Out-of-bounds structures give
 * `undefined`, never a throw from Buffer reads.
 */

interface Box {
  type: string;
  start: number;
  end: number;
}

export interface Size {
  width: number;
  height: number;
}

/** The child boxes laid out in `buf[start, end)`; stops at the first malformed one. */
function children(buf: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = buf.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) break;
    boxes.push({ type: buf.toString('latin1', at + 4, at + 8), start: at + header, end: at + size });
    at += size;
  }
  return boxes;
}

function find(boxes: Box[], type: string): Box | undefined {
  return boxes.find((box) => box.type === type);
}

/** `meta` is a full box: 4 bytes of version and flags precede its children. */
export function readAvifSize(meta: Buffer): Size | undefined {
  const boxes = children(meta, 4, meta.length);
  const iprp = find(boxes, 'iprp');
  if (!iprp) return undefined;
  const iprpChildren = children(meta, iprp.start, iprp.end);
  const ipco = find(iprpChildren, 'ipco');
  if (!ipco) return undefined;
  // Property indices are 1-based in ipma.
  const sizes = new Map<number, Size>();
  children(meta, ipco.start, ipco.end).forEach((property, index) => {
    if (property.type === 'ispe' && property.start + 12 <= property.end) {
      const width = meta.readUInt32BE(property.start + 4);
      const height = meta.readUInt32BE(property.start + 8);
      sizes.set(index + 1, { width, height });
    }
  });
  const primary = primaryItem(meta, find(boxes, 'pitm'));
  const ipma = find(iprpChildren, 'ipma');
  if (primary !== undefined && ipma) {
    for (const index of associations(meta, ipma, primary)) {
      const size = sizes.get(index);
      if (size) return size;
    }
  }
  let largest: Size | undefined;
  for (const size of sizes.values()) {
    if (!largest || size.width * size.height > largest.width * largest.height) largest = size;
  }
  return largest;
}

function primaryItem(buf: Buffer, pitm: Box | undefined): number | undefined {
  if (!pitm || pitm.start + 6 > pitm.end) return undefined;
  const version = buf[pitm.start]!;
  if (version === 0) return buf.readUInt16BE(pitm.start + 4);
  return pitm.start + 8 <= pitm.end ? buf.readUInt32BE(pitm.start + 4) : undefined;
}

/** The property indices `ipma` associates with `item`, in order. */
function associations(buf: Buffer, ipma: Box, item: number): number[] {
  const version = buf[ipma.start]!;
  const wideIndex = (buf[ipma.start + 3]! & 1) === 1;
  const idBytes = version < 1 ? 2 : 4;
  const indexBytes = wideIndex ? 2 : 1;
  let at = ipma.start + 4;
  if (at + 4 > ipma.end) return [];
  const entries = buf.readUInt32BE(at);
  at += 4;
  for (let entry = 0; entry < entries; entry++) {
    if (at + idBytes + 1 > ipma.end) return [];
    const id = idBytes === 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
    const count = buf[at + idBytes]!;
    at += idBytes + 1;
    if (at + count * indexBytes > ipma.end) return [];
    if (id === item) {
      const indices: number[] = [];
      for (let i = 0; i < count; i++) {
        const raw = indexBytes === 2 ? buf.readUInt16BE(at + i * 2) : buf[at + i]!;
        indices.push(raw & (wideIndex ? 0x7fff : 0x7f)); // top bit: "essential"
      }
      return indices;
    }
    at += count * indexBytes;
  }
  return [];
}
