/**
 * Image processing: makes a stored image's variants (thumbnail, small,
 * compressed full size) with sharp. A pure function of the bytes; the queue,
 * workers and storage call it. Settings and measured costs: README.md.
 */
export { processImage } from './process-image.js';
export type { ProcessImageOptions, ProcessedVariant } from './process-image.js';
export type { ImageInput } from './source.js';
export { isPermanentProcessingError } from './errors.js';
export type { InvalidImageReason } from './errors.js';
export {
  DEFAULT_VARIANTS,
  DEFAULT_WEBP_MAX_EDGE,
  VARIANTS,
  WEBP_MAX_DIMENSION,
  isVariantName,
  variantMaxEdge,
} from './variants.js';
export type { VariantContentType, VariantEncoder, VariantExtension, VariantName, VariantSpec } from './variants.js';
