import { Type, type Static } from '@sinclair/typebox';

export const KeyScopeSchema = Type.Union([Type.Literal('upload'), Type.Literal('read'), Type.Literal('admin')], {
  description: 'upload files, read (list) its own files, admin: everything the admin key may',
});
/** What an API key may do: `upload` files, `read` (list) its own files, `admin` everything the admin key may. */
export type KeyScope = Static<typeof KeyScopeSchema>;

const limit = (description: string) => Type.Optional(Type.Integer({ minimum: 1, description }));

export const KeyQuotasSchema = Type.Object(
  {
    maxBytes: limit('Bytes its live files may hold together (originals)'),
    maxFiles: limit('Live files it may hold at once'),
    maxFileBytes: limit('Largest file it may upload, in bytes'),
    maxTtlSeconds: limit('Longest time to live it may give a file, in seconds'),
    maxDownloads: limit('Most downloads it may give a file'),
  },
  {
    $id: 'KeyQuotas',
    additionalProperties: false,
    description: "The limits of one API key; an absent limit is none (the gateway's own limits still apply)",
  },
);
/** The limits of one API key; an absent limit is none (the gateway's own limits still apply). */
export type KeyQuotas = Static<typeof KeyQuotasSchema>;

const keyFields = {
  id: Type.String({ description: "The key's id, also the start of its secret (lgm_<id>_…)" }),
  name: Type.String(),
  scopes: Type.Array(KeyScopeSchema),
  quotas: KeyQuotasSchema,
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  usage: Type.Object(
    { files: Type.Integer({ minimum: 0 }), bytes: Type.Integer({ minimum: 0 }) },
    { additionalProperties: false, description: 'What its live files hold now' },
  ),
};

export const ApiKeySchema = Type.Object(keyFields, {
  $id: 'ApiKey',
  additionalProperties: false,
  description: 'An API key as GET /v1/keys lists it; the secret is never shown again after creation',
});
/** An API key as `GET /v1/keys` lists it (admin); the secret is never shown again after creation. */
export type ApiKey = Static<typeof ApiKeySchema>;

export const CreatedKeySchema = Type.Object(
  {
    ...keyFields,
    secret: Type.String({ description: 'The bearer token (Authorization: Bearer <secret>); only its hash is stored' }),
  },
  {
    $id: 'CreatedKey',
    additionalProperties: false,
    description: 'POST /v1/keys: the new key with its secret, shown once',
  },
);
/** `POST /v1/keys` (admin): the new key, with its secret, shown this once. */
export type CreatedKey = Static<typeof CreatedKeySchema>;
