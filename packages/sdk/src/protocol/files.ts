import { Type, type Static } from '@sinclair/typebox';

/**
 * Where a file's processing is: `processing` right after the upload (the
 * variants are made by workers, never on the request path), then `ready`, or
 * `failed` (with `statusReason`) when the image cannot be processed; the
 * original stays downloadable in every case.
 */
export const FileStatusSchema = Type.Union(
  [Type.Literal('processing'), Type.Literal('ready'), Type.Literal('failed')],
  {
    description: 'processing until the variants exist, then ready; failed (with statusReason) if they never will',
  },
);
export type FileStatus = Static<typeof FileStatusSchema>;

/** The variants a gateway makes (see `docs/api.md`); a newer one may add others. */
export const VARIANT_NAMES = ['thumb', 'small', 'webp', 'avif'] as const;
export const VariantNameSchema = Type.Union(
  VARIANT_NAMES.map((name) => Type.Literal(name)),
  { description: 'thumb (256 px), small (1024 px), webp (full size, compressed), avif (when the gateway makes it)' },
);
export type VariantName = (typeof VARIANT_NAMES)[number];

export const VariantInfoSchema = Type.Object(
  {
    url: Type.String({ description: 'GET it: never takes a download' }),
    contentType: Type.String(),
    size: Type.Integer({ minimum: 0, description: 'bytes' }),
    width: Type.Integer({ minimum: 0 }),
    height: Type.Integer({ minimum: 0 }),
  },
  { $id: 'VariantInfo', additionalProperties: false, description: 'A processed variant of an image' },
);
/** A processed variant of an image, served by `GET /v1/files/:id/variants/:name` without taking a download. */
export type VariantInfo = Static<typeof VariantInfoSchema>;

const fileFields = {
  id: Type.String({ description: 'A random UUID' }),
  title: Type.String(),
  size: Type.Integer({ minimum: 0, description: 'Bytes of the original' }),
  contentType: Type.String({ description: 'Detected from the bytes, never from the name: image/jpeg, image/png…' }),
  width: Type.Integer({ minimum: 0 }),
  height: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 of the original; also its ETag' }),
  maxDownloads: Type.Integer({ minimum: 1 }),
  downloadsLeft: Type.Integer({ minimum: 0 }),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time', description: 'From this instant every request answers 410 EXPIRED' }),
  url: Type.String({
    description: 'The direct download link, <gateway>/d/<id>: a GET takes a download (never for a link-preview bot)',
  }),
  shareUrl: Type.String({
    description: 'The share page, <gateway>/s/<id>: the link to paste for people; opening it takes no download',
  }),
  replicas: Type.Integer({ minimum: 0, description: 'Durable copies known to the gateway' }),
  variants: Type.Record(Type.String(), VariantInfoSchema, {
    description: 'Variants ready so far, by name; empty while processing or after a failure',
  }),
  status: FileStatusSchema,
  statusReason: Type.Optional(Type.String({ description: 'Why processing failed, when status is failed' })),
};

export const FileInfoSchema = Type.Object(fileFields, {
  $id: 'FileInfo',
  additionalProperties: false,
  description: 'The file object of GET /v1/files/:id; reading it does not take a download',
});
/** The file object of `GET /v1/files/:id`. Reading it does not take a download. */
export type FileInfo = Static<typeof FileInfoSchema>;

export const UploadedFileSchema = Type.Object(
  {
    ...fileFields,
    deleteToken: Type.String({ description: 'Sent only once, in the upload response: keep it to delete the file' }),
  },
  { $id: 'UploadedFile', additionalProperties: false, description: 'The file object plus the token that deletes it' },
);
/** The answer to an upload: the file object plus the token that deletes it (sent only once). */
export type UploadedFile = Static<typeof UploadedFileSchema>;

const { replicas: _replicas, variants: _variants, ...listedFields } = fileFields;

export const ListedFileSchema = Type.Object(
  {
    ...listedFields,
    key: Type.Union([Type.String(), Type.Null()], {
      description: 'The id of the API key that uploaded it; null for an anonymous upload or the admin key',
    }),
  },
  {
    $id: 'ListedFile',
    additionalProperties: false,
    description: 'A live file as GET /v1/files lists it: the file object without replicas and variants',
  },
);
/** A live file as `GET /v1/files` lists it: the file object without `replicas` and `variants`, with its uploader's key. */
export type ListedFile = Static<typeof ListedFileSchema>;

export const FilePageSchema = Type.Object(
  {
    files: Type.Array(ListedFileSchema),
    next: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as cursor for the next page; null after the last one',
    }),
  },
  { $id: 'FilePage', additionalProperties: false, description: 'One page of GET /v1/files, in id order' },
);
/** One page of `GET /v1/files`. */
export type FilePage = Static<typeof FilePageSchema>;

export const ShareXUploaderSchema = Type.Object(
  {
    Version: Type.String(),
    Name: Type.String(),
    DestinationType: Type.String(),
    RequestMethod: Type.Literal('POST'),
    RequestURL: Type.String(),
    Headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    Body: Type.Literal('MultipartFormData'),
    FileFormName: Type.String(),
    URL: Type.String(),
    ThumbnailURL: Type.String(),
    DeletionURL: Type.String(),
    ErrorMessage: Type.String(),
  },
  {
    $id: 'ShareXUploader',
    additionalProperties: false,
    description: 'A ShareX custom uploader (.sxcu) for this gateway',
  },
);
/** A ShareX custom uploader (`.sxcu`) for a gateway, as `GET /v1/sharex` answers it. */
export type ShareXUploader = Static<typeof ShareXUploaderSchema>;
