export { assertValidBlobKey, isValidBlobKey } from './blob-key.js';
export {
  BlobStore,
  type BlobPage,
  type BlobStoreOptions,
  type BlobStoreStats,
  type DeleteBlobOptions,
  type SidecarPage,
  type OpenedBlob,
  type PutBlobOptions,
  type SuspectBlob,
} from './blob-store.js';
export type { BlobInfo, BlobSidecar } from './blob-sidecar.js';
export type { BlobTombstone, TombstonePage } from './tombstone-log.js';
export { BlobScrubber, type BlobScrubberOptions, type ScrubPass, type ScrubStats } from './blob-scrubber.js';
export { CorruptReports } from './corrupt-reports.js';
export { parseRangeHeader, resolveByteRange, type ByteRangeRequest, type ResolvedByteRange } from './byte-range.js';
export { parseByteSize } from './byte-size.js';
export { parseNodeConfig, type NodeConfig, type NodeConfigFlags, type ParseNodeConfigInput } from './config.js';
export { createNodeServer, type NodeServerDeps } from './http/create-node-server.js';
export { loadOrCreateNodeIdentity, type NodeIdentity } from './node-identity.js';
export { startNode, type RunningNode, type StartNodeOptions } from './start-node.js';
export { MAX_CORRUPT_PER_JOIN, type JoinRequest, type JoinResponse } from './tree/join-message.js';
export { ParentLink, type ParentLinkOptions, type ParentLinkStatus } from './tree/parent-link.js';
export {
  createLogger,
  isLogLevel,
  LOG_LEVELS,
  type CreateLoggerOptions,
  type LogLevel,
  type Logger,
} from './logging/create-logger.js';
export { REQUEST_ID_HEADER, requestId } from './logging/request-id.js';
// The gateway reads its small JSON bodies the way the node does.
export { readJsonBody } from './http/request-body.js';
export { createSecretCheck } from './http/auth.js';
export {
  loadTlsSettings,
  PLAIN_HTTP,
  type PeerTls,
  type ServerIdentity,
  type TlsFiles,
  type TlsSettings,
} from './tls/tls-settings.js';
export { plainPeerRefusal, isLoopbackHost } from './tls/peer-policy.js';
export { createListener, schemeOf, type Listener, type ListenerOptions } from './tls/https-listener.js';
