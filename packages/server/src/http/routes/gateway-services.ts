import type { AccessGate } from '../../access/access-gate.js';
import type { ClusterService } from '../../cluster/cluster-service.js';
import type { KeyService } from '../../keys/key-service.js';
import type { DownloadService } from '../../download/download-service.js';
import type { FileService } from '../../files/file-service.js';
import type { IndexRebuilder } from '../../index-rebuild/index-rebuilder.js';
import type { OperationsApi } from '../../stats/gateway-operations.js';
import type { UploadService } from '../../upload/upload-service.js';
import type { VariantService } from '../../variants/variant-service.js';
import type { FileReaping, WorkerStore } from '../../workers/worker-store.js';
import type { FileKeySource } from '../../encryption/file-keyring.js';

/** What the gateway's routes call: services that take plain arguments and return results. */
export interface GatewayServices {
  publicUrl: () => string;
  maxUploadBytes: number;
  uploads: UploadService;
  downloads: DownloadService;
  files: FileService;
  variants: VariantService;
  cluster: ClusterService;
  /** Serves the internal API of workers on other hosts (`legim worker --gateway`). */
  workers: { store: WorkerStore; reaper: FileReaping; keys: FileKeySource | undefined };
  /** Stats, events and metrics for operators. */
  operations: OperationsApi;
  /** Rebuilds the index from the nodes' sidecars. */
  rebuilder: IndexRebuilder;
  /** Who may upload, download and administer, and how often. */
  access: AccessGate;
  keys: KeyService;
}
