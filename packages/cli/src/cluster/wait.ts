import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterView, Legim } from '@legim/sdk';
import { CliError } from '../errors.js';

export interface WantedNode {
  url: string;
  nodeId: string | undefined;
}

export interface Deadline {
  at: number;
  budgetMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Polls `GET /v1/cluster` on every gateway until each sees every wanted node
 * `up`: a gateway the nodes did not join learns of them from the shared
 * database, then probes them itself.
 */
export async function waitForNodesUp(
  gateways: ReadonlyArray<{ name: string; legim: Legim }>,
  wanted: WantedNode[],
  deadline: Deadline,
): Promise<void> {
  if (wanted.length === 0) return;
  const pending = new Map(gateways.map((gateway) => [gateway.name, gateway]));
  const views = new Map<string, ClusterView>();
  const errors = new Map<string, unknown>();
  while (Date.now() < deadline.at) {
    deadline.signal?.throwIfAborted();
    await Promise.all(
      [...pending.values()].map(async ({ name, legim }) => {
        try {
          const view = await legim.cluster();
          views.set(name, view);
          if (missingFrom(view, wanted).length === 0) pending.delete(name);
        } catch (error) {
          errors.set(name, error);
        }
      }),
    );
    if (pending.size === 0) return;
    await sleep(200, undefined, deadline.signal ? { signal: deadline.signal } : undefined);
  }
  const [name] = pending.keys();
  const view = views.get(name!);
  const who = gateways.length === 1 ? 'the gateway' : name!;
  const why = view
    ? `${who} sees ${wanted.length - missingFrom(view, wanted).length} of ${wanted.length} storage nodes up`
    : `${who} did not answer (${describe(errors.get(name!))})`;
  throw new CliError(
    'CLUSTER_NOT_READY',
    `the cluster was not ready within ${Math.round(deadline.budgetMs / 1000)} s: ${why}`,
  );
}

function missingFrom(view: ClusterView, wanted: WantedNode[]): WantedNode[] {
  const up = view.nodes.filter((node) => node.status === 'up');
  return wanted.filter((w) => !up.some((node) => node.id === w.nodeId || sameUrl(node.url, w.url)));
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function describe(error: unknown): string {
  return String((error as Error | undefined)?.message ?? error);
}

/** Waits for a promise, an abort or the deadline, whichever comes first. */
export async function waitFor<T>(promise: Promise<T>, deadline: Deadline, what: string): Promise<T> {
  const { signal } = deadline;
  signal?.throwIfAborted();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CliError('CLUSTER_NOT_READY', `${what} within ${deadline.budgetMs / 1000} s`)),
      Math.max(0, deadline.at - Date.now()),
    );
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, limit]);
  } catch (error) {
    if (error instanceof CliError || signal?.aborted) throw error;
    // A child exited before it was ready: its message names it and says why.
    throw new CliError('CLUSTER_NOT_READY', error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
