import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LegimError } from '@legim/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { isPermanentProcessingError, processImage } from '../src/processing/index.js';
import { deserializeError, serializeError } from '../src/workers/image-process-protocol.js';
import { IMAGE_PROCESS_NICE } from '../src/workers/lower-priority.js';
import { call, queryIndex, uploadBytes, waitFor } from './support.js';

/** The gateway's image processes: children of this process (the test runs the gateway in-process). */
function imageProcesses(): number[] {
  const pids: number[] = [];
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    for (const pid of readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) {
      try {
        if (pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('image-process-child')) pids.push(Number(pid));
      } catch {
        // Gone meanwhile.
      }
    }
  }
  return pids;
}

/** The nice value of every thread of `pid`. */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name's ")": state is the 3rd field, nice the 19th.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(process.platform !== 'linux')("the gateway's image process", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateway: { jobAttempts: '3' } });
  });
  afterAll(() => cluster?.close());

  const status = async (id: string) => (await call(`${cluster.gateway.url}/v1/files/${id}`)).json.status as string;

  it('starts with the gateway, makes every image and runs every thread at the lowest CPU priority', async () => {
    const started = imageProcesses();
    expect(started).toHaveLength(1);
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('jpeg-progressive.jpg'));
    await waitFor(async () => (await status(up.json.id)) === 'ready', 'the variants', 30_000);
    const [pid, ...others] = imageProcesses();
    expect(others).toEqual([]);
    expect(pid).toBe(started[0]);
    const nices = threadNices(pid!);
    // Node's, libuv's and libvips' threads alike.
    expect(nices.length).toBeGreaterThan(4);
    expect(new Set(nices)).toEqual(new Set([IMAGE_PROCESS_NICE]));
  });

  it('survives the image process dying mid-image: the job fails that run, is retried and completes', async () => {
    const [pid] = imageProcesses();
    // Frozen, it takes the image but never answers; then it dies as a segfault or the OOM killer would end it.
    process.kill(pid!, 'SIGSTOP');
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('photo-mountains-3264x2448.jpg'));
    expect(up.status).toBe(201);
    await sleep(1000);
    process.kill(pid!, 'SIGKILL');
    const failedRun = () =>
      queryIndex<{ last_error: string }>(
        cluster.gateway.dataDir,
        "SELECT last_error FROM legim_jobs WHERE file_id = ? AND last_error LIKE '%image process died%'",
        up.json.id,
      );
    await waitFor(() => failedRun().length === 1, 'the run to fail', 10_000);
    expect(failedRun()[0]!.last_error).toContain('signal SIGKILL');
    // The gateway kept serving throughout.
    expect((await call(`${cluster.gateway.url}/v1/files/${up.json.id}`)).status).toBe(200);
    await waitFor(async () => (await status(up.json.id)) === 'ready', 'the retried job', 30_000);
    const replaced = imageProcesses();
    expect(replaced).toHaveLength(1);
    expect(replaced[0]).not.toBe(pid);
  });

  it('stops the image process with the gateway', async () => {
    const [pid] = imageProcesses();
    expect(pid).toBeDefined();
    await cluster.restartGateway();
    expect(isAlive(pid!)).toBe(false);
    const [restarted, ...others] = imageProcesses();
    expect(others).toEqual([]);
    expect(restarted).not.toBe(pid);
  });
});

describe.skipIf(process.platform !== 'linux')('a gateway without image workers', () => {
  it('starts no image process', async () => {
    const cluster = await startCluster({ nodes: 0, gateway: { workers: '0' } });
    try {
      expect(imageProcesses()).toEqual([]);
    } finally {
      await cluster.close();
    }
  });
});

describe('errors crossing from the image process', () => {
  it('a permanent image error stays permanent, with its reason', async () => {
    const error = await processImage(Buffer.from('not an image at all'), {
      variants: ['thumb'],
      maxPixels: 1000,
    }).catch((e: unknown) => e);
    expect(isPermanentProcessingError(error)).toBe(true);
    const rebuilt = deserializeError(structuredClone(serializeError(error)));
    expect(isPermanentProcessingError(rebuilt)).toBe(true);
    expect(LegimError.is(rebuilt) && rebuilt.code).toBe('INVALID_IMAGE');
    expect((rebuilt as LegimError).details).toMatchObject({ permanent: true, reason: 'unsupported-format' });
    expect(rebuilt.message).toBe((error as Error).message);
  });

  it('anything else comes back as a transient plain Error', () => {
    const rebuilt = deserializeError(structuredClone(serializeError(new Error('out of memory'))));
    expect(isPermanentProcessingError(rebuilt)).toBe(false);
    expect(rebuilt.message).toBe('out of memory');
  });
});
