import Negotiator from 'negotiator';
import type { VariantRecord } from '../metadata/types.js';

/** The name that asks for the full-size preview in the best encoding the client takes. */
export const NEGOTIATED_PREVIEW = 'full';

/** The full-size encodings a file can have. */
const FULL_SIZE = [
  { name: 'avif', type: 'image/avif' },
  { name: 'webp', type: 'image/webp' },
] as const;

/**
 * The variant that answers `full`: the encoding the client's `Accept` names
 * first among those the file has, else WebP, which every processed file has.
 * Only a type named outright counts: wildcards (image or any type) come from browsers
 * that cannot all decode AVIF.
 */
export function negotiateFullSize(accept: string | undefined, variants: VariantRecord[]): VariantRecord | undefined {
  const named = new Negotiator({ headers: { accept: accept ?? '' } }).mediaTypes();
  const made = FULL_SIZE.filter((format) => variants.some((v) => v.name === format.name));
  const choice = named.map((type) => made.find((f) => f.type === type)).find(Boolean) ?? { name: 'webp' };
  return variants.find((v) => v.name === choice.name);
}
