export { parseGatewayConfig, defaultDataDir, type GatewayConfig, type GatewayFlags } from './config.js';
export { startGateway, type RunningGateway } from './start-gateway.js';
export { createGateway, type GatewayServices } from './http/create-gateway.js';
export type { MetadataStore, FileRecord, NodeRecord } from './metadata/types.js';
export type { DownloadCounter } from './backends/download-counter/download-counter.js';
export type { BlobTransport } from './backends/blob-transport/blob-transport.js';
export type { MetadataCache, CachedFile } from './backends/metadata-cache/metadata-cache.js';
export { startWorker, type RunningWorker, type WorkerConfig } from './workers/start-worker.js';
export { parseWorkerConfig, type WorkerFlags } from './workers/worker-config.js';
