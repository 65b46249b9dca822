import { Type, type Static } from '@sinclair/typebox';

export const FileGoneSchema = Type.Object(
  {
    state: Type.Union([Type.Literal('expired'), Type.Literal('used-up'), Type.Literal('deleted')]),
    at: Type.String({
      format: 'date-time',
      description: "When its bytes were (or are to be) removed from the storage nodes; an expired file's expiry",
    }),
  },
  {
    $id: 'FileGone',
    additionalProperties: false,
    description: "A finished file's final state, in the 410 answers of the file routes",
  },
);
/** How a file ended, carried by a `410` (`LegimError.details.gone` in the SDK). */
export type FileGone = Static<typeof FileGoneSchema>;

export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable, machine-readable (docs/api.md, "Errors")' }),
        message: Type.String({ description: 'For people: what happened and what to do' }),
        gone: Type.Optional(FileGoneSchema),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'Error', additionalProperties: false, description: 'The body of every error answer' },
);
/** The JSON body of every error response. */
export type ErrorBody = Static<typeof ErrorBodySchema>;
