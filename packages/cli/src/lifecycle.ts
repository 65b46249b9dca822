/**
 * Foreground services (`legim server start`, `legim node start`): tell a
 * parent `legim up` when they are ready, and stop cleanly on SIGINT/SIGTERM
 * or when that parent goes away.
 */

/** What a child sends its parent over the fork IPC channel. */
export type ChildMessage =
  { type: 'ready'; role: 'gateway'; url: string } | { type: 'ready'; role: 'node'; url: string; nodeId: string };

export function isChildMessage(value: unknown): value is ChildMessage {
  const m = value as Partial<ChildMessage> | null;
  return typeof m === 'object' && m !== null && m.type === 'ready' && typeof m.url === 'string';
}

/** Tells the parent process (if any, and still there) that we are listening. */
export function announceReady(message: ChildMessage): void {
  if (process.send && process.connected) process.send(message);
}

export interface Stoppable {
  close(): Promise<void>;
  /**
   * Run on SIGTERM before `close()`, when given: a storage node drains its
   * blobs into the cluster first. It has no time limit of its own.
   */
  drain?(): Promise<void>;
}

/** Milliseconds a service gets to close before the process gives up on it. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Resolves once the service has been closed after SIGINT, SIGTERM or the
 * loss of the parent's IPC channel (a `legim up` that died must not leave
 * orphans). SIGTERM drains first when the service can. A second signal while
 * stopping exits at once.
 */
export function runUntilStopped(
  service: Stoppable,
  onStopping?: (reason: string) => void,
  onDrainFailed?: (error: unknown) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let stoppingSince: number | undefined;

    const closeWithin = (limitMs: number): Promise<void> =>
      new Promise((closed, failed) => {
        const timer = setTimeout(() => failed(new Error(`did not stop within ${limitMs / 1000} s`)), limitMs);
        timer.unref();
        service
          .close()
          .then(closed, failed)
          .finally(() => clearTimeout(timer));
      });

    const stop = (reason: string): void => {
      if (stoppingSince !== undefined) {
        // A duplicate signal (a supervisor signalling process and group) is not a second Ctrl-C.
        if (reason !== 'disconnect' && Date.now() - stoppingSince >= 1000) process.exit(1);
        return;
      }
      stoppingSince = Date.now();
      onStopping?.(reason);
      const drained = reason === 'SIGTERM' && service.drain ? service.drain().catch(onDrainFailed) : Promise.resolve();
      drained
        .then(() => closeWithin(CLOSE_TIMEOUT_MS))
        .then(
          () => {
            cleanup();
            resolve();
          },
          (error: unknown) => {
            cleanup();
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
    };

    const onSigint = (): void => stop('SIGINT');
    const onSigterm = (): void => stop('SIGTERM');
    const onDisconnect = (): void => stop('disconnect');
    const cleanup = (): void => {
      process.off('SIGTERM', onSigterm);
      process.off('disconnect', onDisconnect);
      // Keep a SIGINT handler so a late Ctrl-C does not kill us mid-exit.
      process.off('SIGINT', onSigint);
      process.on('SIGINT', () => {});
      if (process.connected) process.disconnect();
    };

    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    if (process.send) {
      if (process.connected) process.on('disconnect', onDisconnect);
      else stop('disconnect');
    }
  });
}
