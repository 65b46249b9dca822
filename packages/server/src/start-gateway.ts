import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BlobStore } from '@legim/node';
import { LocalBlobTransport } from './backends/blob-transport/local.js';
import { SqliteDownloadCounter } from './backends/download-counter/sqlite.js';
import { InProcessMetadataCache } from './backends/metadata-cache/in-process.js';
import { ClusterService } from './cluster/cluster-service.js';
import { openClusterView } from './cluster/open-cluster-view.js';
import type { GatewayConfig } from './config.js';
import { DownloadService } from './download/download-service.js';
import { FileReaper } from './expiry/file-reaper.js';
import { PeriodicTask } from './background/periodic-task.js';
import { createJobHandler } from './workers/job-handler.js';
import { FileService } from './files/file-service.js';
import { createGateway } from './http/create-gateway.js';
import { loadIdentity } from './identity.js';
import { ReplicaRepairer } from './replication/replica-repairer.js';
import { UploadService } from './upload/upload-service.js';
import { ReplicaReader } from './download/replica-reader.js';
import { openJobQueue } from './jobs/open-job-queue.js';
import { DEFAULT_VARIANTS } from './processing/index.js';
import { VariantService } from './variants/variant-service.js';
import { ImageWorker } from './workers/image-worker.js';
import { VariantWriter } from './workers/variant-writer.js';
import { ProcessingWatchdog } from './workers/processing-watchdog.js';

export interface RunningGateway {
  url: string;
  dataDir: string;
  gatewayId: string;
  adminKey: string;
  clusterSecret: string;
  server: Server;
  close(): Promise<void>;
}

const HEARTBEAT_MS = 1000;
const REPAIR_INTERVAL_MS = 5000;
const IDLE_CLIENT_MS = 60_000;

/** Wires the gateway from its configuration and starts listening. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const identity = loadIdentity(config.dataDir, config);
  const { db, metadata, registry, health, placer } = await openClusterView({
    dataDir: config.dataDir,
    clusterSecret: identity.clusterSecret,
    healthIntervalMs: config.healthIntervalMs,
  });
  if (config.store) {
    const store = new BlobStore({ dataDir: join(config.dataDir, 'store') });
    await store.init();
    registry.addLocal(identity.gatewayId, new LocalBlobTransport(identity.gatewayId, store), await store.stats());
  }
  await health.probeAll();
  const repairer = new ReplicaRepairer(metadata, registry, placer, REPAIR_INTERVAL_MS);
  const reaper = new FileReaper(metadata, registry);
  // The backstop of expiry and deletion: reaps whatever is due, job or no job.
  const sweeper = new PeriodicTask('deletion sweep', () => reaper.reapDue(), config.sweepIntervalMs);
  const reader = new ReplicaReader(registry, health);
  const jobs = await openJobQueue(config, db);
  const worker = new ImageWorker(metadata, registry, new VariantWriter(metadata, placer), {
    variants: DEFAULT_VARIANTS,
    maxPixels: config.maxPixels,
    maxAttempts: config.jobAttempts,
  });
  const watchdog = new ProcessingWatchdog(metadata, jobs);
  // sharp works in libvips' threads, so these jobs stay off the event loop.
  const consumer =
    config.workers > 0
      ? await jobs.consume(createJobHandler(worker, reaper), { concurrency: config.workers })
      : undefined;

  let publicUrl = config.publicUrl ?? '';
  const handle = createGateway({
    publicUrl: () => publicUrl,
    adminKey: identity.adminKey,
    clusterSecret: identity.clusterSecret,
    maxUploadBytes: config.maxUploadBytes,
    uploads: new UploadService({ config, metadata, registry, placer, repairer, jobs }),
    downloads: new DownloadService({
      config,
      metadata,
      counter: new SqliteDownloadCounter(db),
      cache: new InProcessMetadataCache(),
      reader,
      jobs,
    }),
    variants: new VariantService(metadata, reader),
    files: new FileService(metadata, jobs, identity.adminKey),
    cluster: new ClusterService(registry, metadata, {
      gatewayId: identity.gatewayId,
      replicas: config.replicas,
      writeQuorum: config.writeQuorum,
      heartbeatMs: HEARTBEAT_MS,
    }),
  });
  // Shutdown waits for requests in flight, so an upload that fails late can
  // still queue the cleanup of its copies before the database closes.
  const inFlight = new Set<Promise<void>>();
  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, (req, res) => {
    const handled = handle(req, res).finally(() => inFlight.delete(handled));
    inFlight.add(handled);
  });
  // A client that sends or reads nothing for this long is cut off, which also
  // releases the node connections of a stalled upload.
  server.setTimeout(IDLE_CLIENT_MS);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  publicUrl ||= url;

  health.start();
  repairer.start();
  sweeper.start();
  watchdog.start();
  repairer.wake();
  sweeper.wake();

  let closing: Promise<void> | undefined;
  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
    await Promise.allSettled(inFlight);
    await Promise.all([health.stop(), repairer.stop(), sweeper.stop(), watchdog.stop(), consumer?.stop()]);
    await jobs.close();
    await registry.close();
    await metadata.close();
  };
  return {
    url,
    dataDir: config.dataDir,
    gatewayId: identity.gatewayId,
    adminKey: identity.adminKey,
    clusterSecret: identity.clusterSecret,
    server,
    close: () => (closing ??= close()),
  };
}
