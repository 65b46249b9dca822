import { inspect } from 'node:util';
import type { ChannelModel, ConfirmChannel, GetMessage, Options } from 'amqplib';
import type { Logger } from '@legim/node';
import { errorMessage } from './queue-options.js';
import { WORK_ROUTING_KEY, type RabbitNames } from './rabbit-topology.js';

const NOT_FOUND = 404;

/**
 * Empties the classic work queue of earlier versions (`<prefix>.jobs`) into
 * the quorum queue that replaced it, then deletes it. Resolves true once
 * there is no such queue (the usual case, known after one passive declare),
 * false if it had to be kept: a process of the earlier version still reads
 * from it, or the connection broke. Never throws.
 *
 * The old queue is unbound first, so new jobs stop landing there; each job is
 * then republished with a confirm before it is acked (a crash mid-way
 * duplicates a job, never loses one). Jobs held unacked by an old consumer
 * stay until it lets them go, and are moved on a later connect.
 */
export async function moveLegacyJobs(connection: ChannelModel, names: RabbitNames, logger: Logger): Promise<boolean> {
  const legacy = names.legacyJobs;
  let channel: ConfirmChannel;
  try {
    channel = await connection.createConfirmChannel();
  } catch {
    return false;
  }
  // A failed passive declare closes the channel with an 'error' event; the rejected call says it all.
  channel.on('error', () => {});
  try {
    try {
      await channel.checkQueue(legacy);
    } catch (error) {
      return (error as { code?: unknown }).code === NOT_FOUND; // Not there: nothing to move.
    }
    await channel.unbindQueue(legacy, names.workExchange, WORK_ROUTING_KEY);
    let moved = 0;
    for (;;) {
      const message = await channel.get(legacy, { noAck: false });
      if (!message) break;
      await republish(channel, names.workExchange, message);
      channel.ack(message);
      moved++;
    }
    const { consumerCount } = await channel.checkQueue(legacy);
    const jobs = `${moved} job${moved === 1 ? '' : 's'}`;
    if (consumerCount > 0) {
      logger.warn(
        `moved ${jobs} from the classic queue ${legacy} to ${names.jobs}; ${legacy} is kept while ` +
          `${consumerCount} consumers of an earlier Legim version read it: upgrade them and it goes on the next connect`,
      );
      return false;
    }
    await channel.deleteQueue(legacy, { ifEmpty: true, ifUnused: true });
    logger.warn(`moved ${jobs} from the classic queue ${legacy} to ${names.jobs} and deleted ${legacy}`);
    return true;
  } catch (error) {
    logger.warn(`moving jobs out of ${legacy} stopped (${errorMessage(error)}); it resumes on the next connect`);
    return false;
  } finally {
    await channel.close().catch(() => {});
  }
}

function republish(channel: ConfirmChannel, exchange: string, message: GetMessage): Promise<void> {
  // amqplib types these properties `any`; they are the strings (or absent) the publisher set.
  const { properties } = message;
  const options: Options.Publish = {
    persistent: true,
    contentType: properties.contentType as string | undefined,
    messageId: properties.messageId as string | undefined,
    type: properties.type as string | undefined,
    headers: properties.headers,
  };
  return new Promise((resolve, reject) => {
    channel.publish(exchange, WORK_ROUTING_KEY, message.content, options, (error: unknown) =>
      error
        ? reject(error instanceof Error ? error : new Error(`publish not confirmed: ${inspect(error)}`))
        : resolve(),
    );
  });
}
