import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore, createListener, createLogger, schemeOf, type Listener, type Logger } from '@legim/node';
import { LocalBlobTransport } from './backends/blob-transport/local.js';
import { openBackends } from './backends/open-backends.js';
import { ClusterService } from './cluster/cluster-service.js';
import { NodeDrainer } from './cluster/node-drainer.js';
import { openClusterView } from './open-cluster-view.js';
import type { GatewayConfig } from './config.js';
import { DownloadCheckpoints } from './download/download-checkpoints.js';
import { DownloadService } from './download/download-service.js';
import { FileReaper } from './expiry/file-reaper.js';
import { PeriodicTask } from './background/periodic-task.js';
import { createDeadLetterHandler, createJobHandler } from './workers/job-handler.js';
import { FileService } from './files/file-service.js';
import { createGatewayApp } from './http/gateway-app.js';
import { createRequestListener } from './http/request-listener.js';
import { gatewayRoutes } from './http/routes/gateway-routes.js';
import { serverVersion } from './server-version.js';
import { loadIdentity } from './identity.js';
import { claimStore } from './store-claim.js';
import { ReplicaRepairer } from './replication/replica-repairer.js';
import { QuotaCheck } from './quota/quota-check.js';
import { UploadService } from './upload/upload-service.js';
import { AccessGate } from './access/access-gate.js';
import { KeyService } from './keys/key-service.js';
import { RateLimiter } from './rate-limit/rate-limiter.js';
import { ReplicaReader } from './download/replica-reader.js';
import { FileBlobReader } from './download/file-blob-reader.js';
import { resolveMasterKeys } from './encryption/local-master-key.js';
import { FileKeyring } from './encryption/file-keyring.js';
import { KeyRewrapper } from './encryption/key-rewrapper.js';
import { ResumeTokens } from './download/resume-tokens.js';
import { ResumeCredits } from './download/resume-credits.js';
import { VariantService } from './variants/variant-service.js';
import { ImageProcess } from './workers/image-process.js';
import { IndexRebuilder } from './index-rebuild/index-rebuilder.js';
import { ImageWorker } from './workers/image-worker.js';
import { CdnPurger } from './cdn/cdn-purger.js';
import { NEGOTIATED_PREVIEW } from './variants/preview-format.js';
import { VariantWriter } from './workers/variant-writer.js';
import { ProcessingWatchdog } from './workers/processing-watchdog.js';
import { GatewayEvents } from './events/gateway-events.js';
import { ProcessingReports } from './workers/processing-reports.js';
import { createOperations } from './stats/gateway-operations.js';

export interface RunningGateway {
  url: string;
  dataDir: string;
  gatewayId: string;
  adminKey: string;
  clusterSecret: string;
  /** `node:https` when the gateway has a certificate (`--tls-cert`), else `node:http`. */
  server: Listener;
  close(): Promise<void>;
}

const HEARTBEAT_MS = 1000;
const REPAIR_INTERVAL_MS = 5000;
const IDLE_CLIENT_MS = 60_000;
const NODE_SYNC_MS = 2000;
const BUCKET_PRUNE_MS = 60_000;
const REWRAP_MS = 60_000;

export interface StartGatewayOptions {
  /** Where the gateway and its background tasks log; defaults to JSON lines on stderr at `info`. */
  logger?: Logger;
}

/** Wires the gateway from its configuration and starts listening. */
export async function startGateway(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<RunningGateway> {
  const startedAt = Date.now();
  const logger = options.logger ?? createLogger({ name: 'gateway' });
  const identity = loadIdentity(config.dataDir, config);
  const masterKeys = resolveMasterKeys(config);
  const events = new GatewayEvents();
  const { emit } = events;
  const backends = await openBackends(config, 'legim-gateway', logger);
  const { metadata, counter, locks, cache, jobs } = backends;
  // With master keys, files encrypted earlier stay readable even with `--encrypt` off (new ones are then stored in clear).
  const keyring = masterKeys && new FileKeyring(metadata, masterKeys);
  const { registry, health, placer } = await openClusterView({
    nodes: metadata,
    clusterSecret: identity.clusterSecret,
    peers: config.tls.peers,
    healthIntervalMs: config.healthIntervalMs,
    emit,
    log: (line) => logger.warn(line),
  });
  let releaseStore = () => {};
  if (config.store) {
    const storeDir = join(config.dataDir, 'store');
    mkdirSync(storeDir, { recursive: true });
    // Before init(), which clears the store's temporary files: they may be another gateway's uploads.
    releaseStore = claimStore(storeDir);
    const store = new BlobStore({ dataDir: storeDir, logger });
    await store.init();
    registry.addLocal(identity.gatewayId, new LocalBlobTransport(identity.gatewayId, store), await store.stats());
  }
  // sharp runs in a child process at the lowest CPU priority: libvips' threads leave the CPU to the event
  // loop and the nodes, and a crash in sharp cannot take the gateway down. It loads while the gateway starts.
  const images = new ImageProcess({ concurrency: config.workers, logger });
  const imagesStarted = config.workers > 0 ? images.start() : undefined;
  await health.probeAll();
  const repairer = new ReplicaRepairer(metadata, registry, placer, locks, {
    intervalMs: REPAIR_INTERVAL_MS,
    lostAfterMs: config.repairAfterMs,
    emit,
    logger,
  });
  const purger = config.purge && new CdnPurger(config.purge, [...config.variants, NEGOTIATED_PREVIEW], logger);
  const purgeCdn = (fileId: string) => void purger?.purge(fileId);
  const reaper = new FileReaper(metadata, registry, locks, counter, emit, purgeCdn);
  const drainer = new NodeDrainer(registry, metadata, {
    replicas: config.replicas,
    onDrainStarted: () => repairer.wake(),
    logger,
    emit,
  });
  const drainFinisher = new PeriodicTask('finishing drains', () => drainer.finishDrained(), REPAIR_INTERVAL_MS, logger);
  // Nodes that joined another gateway sharing this database.
  const nodeSync = new PeriodicTask('reading the node list', () => registry.sync(), NODE_SYNC_MS, logger);
  // The backstop of expiry and deletion: reaps whatever is due, job or no job.
  const sweeper = new PeriodicTask('deletion sweep', () => reaper.reapDue(), config.sweepIntervalMs, logger);
  const keys = new KeyService(backends.keys, identity.adminKey);
  const limiter = new RateLimiter(backends.buckets, config.rateLimits);
  // Full buckets carry nothing: dropping them keeps the table to the clients of the last minutes.
  const bucketPruner = new PeriodicTask('pruning rate buckets', () => limiter.prune(), BUCKET_PRUNE_MS, logger);
  const resumeCredits = new ResumeCredits(backends.credits, config.resumeWindowMs, logger);
  const creditPruner = new PeriodicTask('pruning resume credits', () => resumeCredits.prune(), BUCKET_PRUNE_MS, logger);
  const reader = new FileBlobReader(new ReplicaReader(registry, health), keyring, metadata);
  const rewrapper = keyring && new KeyRewrapper(metadata, keyring.masterKeys, logger);
  const rewrapTask = new PeriodicTask(
    'rewrapping file keys',
    async () => void (await rewrapper?.rewrapAll()),
    REWRAP_MS,
    logger,
  );
  const processing = new ProcessingReports(metadata, emit);
  const worker = new ImageWorker(processing, registry, new VariantWriter(metadata, placer), {
    variants: config.variants,
    maxPixels: config.maxPixels,
    processImage: images.processImage,
    keys: keyring,
  });
  const watchdog = new ProcessingWatchdog(metadata, jobs, logger);
  const consumer =
    config.workers > 0
      ? await jobs.consume(createJobHandler(worker, reaper), {
          // One job more than images at once: its original is fetched, or its variants stored, meanwhile.
          concurrency: config.workers + 1,
          onDeadLetter: createDeadLetterHandler(worker),
        })
      : undefined;

  const operations = createOperations({
    events,
    totals: backends.totals,
    registry,
    jobs,
    jobBackend: backends.engines.jobs,
    replicas: config.replicas,
    startedAt,
    logger,
  });
  const rebuilder = new IndexRebuilder(metadata, registry, locks, jobs, logger);
  let publicUrl = config.publicUrl ?? '';
  const services = {
    publicUrl: () => publicUrl,
    maxUploadBytes: config.maxUploadBytes,
    uploads: new UploadService({
      config,
      metadata,
      registry,
      placer,
      repairer,
      jobs,
      quotas: new QuotaCheck(backends.keys, config.maxUploadBytes),
      keyring: config.encrypt ? keyring : undefined,
      emit,
      logger,
    }),
    downloads: new DownloadService({
      config,
      metadata,
      counter,
      cache,
      reader,
      checkpoints: new DownloadCheckpoints(metadata, registry, config.writeQuorum),
      jobs,
      resumeTokens: new ResumeTokens(identity.clusterSecret, config.resumeWindowMs),
      resumeCredits,
      emit,
      logger,
    }),
    variants: new VariantService(metadata, reader, config.previewCaching),
    files: new FileService({
      metadata,
      jobs,
      counter,
      cache,
      keys: backends.keys,
      adminKey: identity.adminKey,
      deleteGraceMs: config.deleteGraceMs,
      bounds: { maxDownloads: config.maxDownloads, maxTtlSeconds: config.maxTtlSeconds },
      emit,
      expiryShortened: purgeCdn,
    }),
    cluster: new ClusterService(registry, metadata, drainer, {
      gatewayId: identity.gatewayId,
      replicas: config.replicas,
      writeQuorum: config.writeQuorum,
      heartbeatMs: HEARTBEAT_MS,
      counterState: backends.counterState,
      indexState: () => ({ backend: backends.engines.index, reachable: backends.indexReachable() }),
      liveFiles: async () => (await backends.totals.read(Date.now())).files.live,
      encryption: {
        enabled: config.encrypt,
        currentKey: masterKeys?.current.kid ?? null,
        fileKeys: () => metadata.fileKeyCounts(),
      },
      emit,
      onCorrupt: (fileId) => repairer.check(fileId),
      logger,
    }),
    workers: { store: processing, reaper, keys: keyring },
    operations,
    rebuilder,
    access: new AccessGate(keys, limiter, config.uploads),
    keys,
  };
  const handle = createRequestListener(
    createGatewayApp({
      routes: gatewayRoutes(services, serverVersion()),
      authorizeAdmin: (request) => services.access.admitAdmin(request.headers.authorization, request.address),
      clusterSecret: identity.clusterSecret,
      checkAnswers: config.checkAnswers,
      onInternalError: (request, error) =>
        logger.error({ err: error, reqId: request.id, method: request.method, url: request.url }, 'request failed'),
    }),
    {
      logger,
      trustedProxies: config.trustedProxies,
      observe: (...request) => operations.metrics.observeRequest(...request),
    },
  );
  // Shutdown waits for requests in flight, so an upload that fails late can
  // still queue the cleanup of its copies before the database closes.
  const inFlight = new Set<Promise<void>>();
  const listenerOptions = { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 };
  const listen = (req: IncomingMessage, res: ServerResponse) => {
    const handled = handle(req, res).finally(() => inFlight.delete(handled));
    inFlight.add(handled);
  };
  const server = createListener(config.tls.identity, listenerOptions, listen);
  // The listener sends `100 Continue` itself, once a route reads the body.
  server.on('checkContinue', listen);
  // A client that sends or reads nothing for this long is cut off, which also
  // releases the node connections of a stalled upload.
  server.setTimeout(IDLE_CLIENT_MS);
  // Up means able to make variants, as when sharp ran in this process.
  await imagesStarted;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${schemeOf(config.tls.identity)}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  publicUrl ||= url;

  health.start();
  repairer.start();
  drainFinisher.start();
  sweeper.start();
  watchdog.start();
  nodeSync.start();
  bucketPruner.start();
  creditPruner.start();
  // A rotation (a new current master key) starts as the gateway does.
  if (rewrapper) {
    rewrapTask.start();
    rewrapTask.wake();
  }
  repairer.wake();
  sweeper.wake();

  let closing: Promise<void> | undefined;
  const close = async () => {
    // Event streams never end by themselves: the server would wait for them until it cuts every connection.
    operations.events.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
    await Promise.allSettled(inFlight);
    await Promise.all([
      rebuilder.stop(),
      health.stop(),
      repairer.stop(),
      drainFinisher.stop(),
      sweeper.stop(),
      watchdog.stop(),
      nodeSync.stop(),
      bucketPruner.stop(),
      creditPruner.stop(),
      rewrapTask.stop(),
      consumer?.stop(),
    ]);
    await images.close();
    releaseStore();
    await registry.close();
    await backends.close();
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
