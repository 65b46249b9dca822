// A RabbitMQ worker process for job-queue.rabbitmq.test.ts, on the built package.
// Usage: node job-queue.crashing-worker.mjs '{"url","prefix","poison",...queue options}'
// Takes one job at a time and reports on stdout, one JSON object a line; the job for the file named
// `poison` kills the process with SIGKILL, as a segfault in sharp or the OOM killer would: no handler
// returns, no ack or nack is sent, the broker only sees the connection drop. It enqueues nothing itself, so its
// outbox is in memory, as a `legim worker` on another host has it.
import { createLogger } from '@legim/node';
import { MemoryOutbox, RabbitJobQueue } from '@legim/server/jobs';

const { url, poison, ...options } = JSON.parse(process.argv[2]);
const say = (message) => process.stdout.write(JSON.stringify(message) + '\n');

const queue = await RabbitJobQueue.connect(url, {
  ...options,
  outbox: new MemoryOutbox(),
  logger: createLogger({ level: 'warn', name: 'crashing-worker' }),
});
await queue.consume(
  async (job) => {
    say({ took: job.fileId, attempts: job.attempts });
    if (job.fileId === poison) process.kill(process.pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 20));
    say({ done: job.fileId });
  },
  { concurrency: 1, onDeadLetter: async ({ job, error }) => say({ deadLettered: job.fileId, error }) },
);
say({ ready: true });
process.on('SIGTERM', () => void queue.close().then(() => process.exit(0)));
