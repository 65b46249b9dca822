import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from '@legim/node';

type Amqp = typeof import('amqplib');

/** One live connection and its publishing channel. */
export interface RabbitLink {
  connection: ChannelModel;
  /** Confirm mode: a publish counts only once the broker has acknowledged it. */
  publisher: ConfirmChannel;
}

export interface SessionListener {
  up(link: RabbitLink): void;
  down(): void;
}

export interface SessionOptions {
  url: string;
  connectionName: string;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** Runs on every new link before listeners hear of it. */
  setup(link: RabbitLink): Promise<void>;
  logger: Logger;
}

/**
 * Keeps one connection to the broker alive. When the connection or the
 * publishing channel closes for any reason it drops the whole link, tells
 * the listeners, and reconnects with exponential back-off until closed.
 * One recovery path for every failure keeps the states few.
 */
export class RabbitSession {
  private link: RabbitLink | undefined;
  private readonly listeners = new Set<SessionListener>();
  private readonly closing = new AbortController();
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly amqp: Amqp,
    private readonly options: SessionOptions,
  ) {}

  /** Connects once (failing fast on a wrong URL or a broker that is not there), then keeps reconnecting. */
  static async open(amqp: Amqp, options: SessionOptions): Promise<RabbitSession> {
    const session = new RabbitSession(amqp, options);
    session.loop = session.maintain(await session.connect());
    return session;
  }

  get current(): RabbitLink | undefined {
    return this.link;
  }

  /** Listens from now on; hears `up` at once if connected. Returns the unsubscribe. */
  listen(listener: SessionListener): () => void {
    this.listeners.add(listener);
    if (this.link) listener.up(this.link);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.link?.connection.close().catch(() => {});
    await this.loop;
  }

  private async maintain(first: { link: RabbitLink; lost: Promise<void> }): Promise<void> {
    let current = first;
    for (;;) {
      if (this.closing.signal.aborted) {
        await current.link.connection.close().catch(() => {});
        return;
      }
      this.link = current.link;
      for (const listener of this.listeners) listener.up(current.link);
      await current.lost;
      this.link = undefined;
      for (const listener of this.listeners) listener.down();
      if (this.closing.signal.aborted) return;
      this.options.logger.warn('lost the RabbitMQ connection; reconnecting');
      let delay = this.options.reconnectBaseMs;
      for (;;) {
        if (this.closing.signal.aborted) return;
        try {
          await sleep(delay, undefined, { signal: this.closing.signal });
          current = await this.connect();
          this.options.logger.warn('reconnected to RabbitMQ');
          break;
        } catch (error) {
          if (this.closing.signal.aborted) return;
          delay = Math.min(delay * 2, this.options.reconnectMaxMs);
          this.options.logger.warn(`${(error as Error).message}; retrying in ${delay} ms`);
        }
      }
    }
  }

  private async connect(): Promise<{ link: RabbitLink; lost: Promise<void> }> {
    let connection: ChannelModel;
    try {
      connection = await this.amqp.connect(this.options.url, {
        clientProperties: { connection_name: this.options.connectionName },
        // A broker that accepts TCP but never answers must not stall reconnecting (or close()) for minutes.
        timeout: 10_000,
      });
    } catch (error) {
      throw new Error(
        `cannot reach RabbitMQ at ${redact(this.options.url)} (${(error as Error).message}): start the broker or fix the AMQP URL`,
        { cause: error },
      );
    }
    // Without a listener an 'error' event would crash the process; 'close' follows it anyway.
    connection.on('error', (error: Error) => this.options.logger.warn(`RabbitMQ connection error: ${error.message}`));
    const lost = new Promise<void>((resolve) => connection.once('close', () => resolve()));
    try {
      const publisher = await connection.createConfirmChannel();
      publisher.on('error', (error: Error) => this.options.logger.warn(`RabbitMQ channel error: ${error.message}`));
      publisher.once('close', () => void connection.close().catch(() => {}));
      const link = { connection, publisher };
      await this.options.setup(link);
      if (this.closing.signal.aborted) throw new Error('the job queue is closed');
      return { link, lost };
    } catch (error) {
      await connection.close().catch(() => {});
      throw new Error(`setting up the job queues on RabbitMQ failed (${(error as Error).message})`, { cause: error });
    }
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the given URL';
  }
}
