export { Legim, type LegimOptions } from './client.js';
export type {
  Download,
  DownloadOptions,
  DownloadToOptions,
  DownloadToResult,
  InfoOptions,
  UploadOptions,
  WaitOptions,
} from './files.js';
export type { VariantOptions, VariantStream, VariantToOptions, VariantToResult } from './variants.js';
export type { DownloadProgress, UploadInput, UploadProgress } from './transfer.js';
export type { EventsOptions, StatsOptions } from './operations.js';
export type { CreateKeyOptions } from './keys.js';
export type { EditOptions, FileLimits } from './file-limits.js';
export type { ListOptions } from './file-listing.js';
export type { ShareXOptions } from './sharex.js';
export type {
  ApiKey,
  ClusterNode,
  CreatedKey,
  KeyQuotas,
  KeyScope,
  ClusterView,
  DrainStarted,
  FileGone,
  FileInfo,
  FilePage,
  FileStatus,
  ListedFile,
  ShareXUploader,
  Health,
  IndexRebuildProgress,
  LegimEvent,
  LegimEventType,
  NodeFilesystem,
  NodeStats,
  FilesystemShare,
  NodeStatus,
  Stats,
  UploadedFile,
  VariantInfo,
  VariantName,
  ErrorBody,
} from './protocol/index.js';
export { fileIdFromUrl } from './file-id.js';
export { tlsFailure } from './tls-failure.js';
export { formatDuration, parseDuration } from './duration.js';
export { summarizeCapacity, type CapacitySummary } from './capacity.js';
export {
  ERROR_CODES,
  LegimError,
  errorFromResponse,
  isErrorCode,
  type ErrorCode,
  type LegimErrorOptions,
} from './errors.js';
