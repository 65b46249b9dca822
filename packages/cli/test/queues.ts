import amqp from 'amqplib';
import { quietLogger } from '../../../test-support/logger.js';

const SHARED_BROKER = 'amqp://guest:guest@127.0.0.1:5672';

/** Removes a test's queues and exchanges (never anything else on the shared broker). */
export async function dropQueues(prefix: string): Promise<void> {
  const connection = await amqp.connect(SHARED_BROKER);
  try {
    const channel = await connection.createChannel();
    const { deleteTopology, rabbitNames, resolveOptions } = await import('@legim/server/jobs');
    await deleteTopology(channel, rabbitNames(resolveOptions({ prefix, logger: quietLogger })));
  } finally {
    await connection.close();
  }
}
