import type { FileInfo, ListedFile } from '@legim/sdk';
import type { FileRecord, VariantRecord } from '../../metadata/types.js';

/** The public JSON shape of a file (docs/api.md, "The file object"). */
export function fileView(
  file: FileRecord,
  publicUrl: string,
  replicas: number,
  variants: VariantRecord[] = [],
): FileInfo {
  return {
    id: file.id,
    title: file.title,
    size: file.size,
    contentType: file.contentType,
    width: file.width,
    height: file.height,
    sha256: file.sha256,
    maxDownloads: file.maxDownloads,
    downloadsLeft: file.downloadsLeft,
    createdAt: new Date(file.createdAt).toISOString(),
    expiresAt: new Date(file.expiresAt).toISOString(),
    url: `${publicUrl}/d/${file.id}`,
    shareUrl: `${publicUrl}/s/${file.id}`,
    replicas,
    variants: Object.fromEntries(
      variants.map((v) => [
        v.name,
        {
          url: `${publicUrl}/v1/files/${file.id}/variants/${v.name}`,
          contentType: v.contentType,
          width: v.width,
          height: v.height,
          size: v.size,
        },
      ]),
    ),
    status: file.status,
    ...(file.statusReason ? { statusReason: file.statusReason } : {}),
  };
}

/** A file as `GET /v1/files` lists it: no replicas or variants (one index read a page), with its uploader's key. */
export function listedFileView(file: FileRecord, publicUrl: string): ListedFile {
  const { replicas: _replicas, variants: _variants, ...listed } = fileView(file, publicUrl, 0);
  return { ...listed, key: file.keyId };
}
