import { Type, type Static } from '@sinclair/typebox';

export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable, machine-readable (docs/api.md, "Errors")' }),
        message: Type.String({ description: 'For people: what happened and what to do' }),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'Error', additionalProperties: false, description: 'The body of every error answer' },
);
/** The JSON body of every error response. */
export type ErrorBody = Static<typeof ErrorBodySchema>;
