/**
 * Upload validation: decides an upload's type from its bytes, reads its size
 * from the header and checks its structure as it streams, without buffering
 * the upload or decoding pixels.
 */
export { ImageInspector, inspectStream } from './image-inspector.js';
export { ACCEPTED_TYPES } from './errors.js';
export { IMAGE_FORMATS } from './formats.js';
export { DEFAULT_MAX_PIXELS } from './types.js';
export type {
  FormatParser,
  HeaderSink,
  ImageContentType,
  ImageExtension,
  ImageFormat,
  ImageHeader,
  InspectedImage,
  InspectOptions,
  SniffResult,
} from './types.js';
