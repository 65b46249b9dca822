import { describe } from 'vitest';
import { ENGINES } from '../../../test-support/test-database.js';
import { blobDeleteQueueContract } from './index-contract/blob-delete-queue.contract.js';
import { downloadCounterContract } from './index-contract/download-counter.contract.js';
import { fileIndexContract } from './index-contract/file-index.contract.js';
import { fileLimitsContract } from './index-contract/file-limits.contract.js';
import { fileKeyIndexContract } from './index-contract/file-key-index.contract.js';
import { useEngine } from './index-contract/harness.js';
import { indexRestoreContract } from './index-contract/index-restore.contract.js';
import { indexTotalsContract } from './index-contract/index-totals.contract.js';
import { keyStoreContract } from './index-contract/key-store.contract.js';
import { leaseStoreContract } from './index-contract/lease-store.contract.js';
import { migrationsContract } from './index-contract/migrations.contract.js';
import { nodeDirectoryContract } from './index-contract/node-directory.contract.js';
import { replicaIndexContract } from './index-contract/replica-index.contract.js';

// Every role of the index, through its public interface, on each engine: one suite, a matrix.
describe.each(ENGINES)('index engine %s', (kind) => {
  const harness = useEngine(kind);
  fileIndexContract(harness);
  fileLimitsContract(harness);
  fileKeyIndexContract(harness);
  replicaIndexContract(harness);
  nodeDirectoryContract(harness);
  blobDeleteQueueContract(harness);
  indexRestoreContract(harness);
  indexTotalsContract(harness);
  downloadCounterContract(harness);
  keyStoreContract(harness);
  leaseStoreContract(harness);
  migrationsContract(harness);
});
