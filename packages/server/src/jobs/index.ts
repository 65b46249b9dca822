export type {
  Consumer,
  ConsumeOptions,
  DeadLetter,
  Job,
  JobCounts,
  JobBackoff,
  JobHandler,
  JobQueue,
  JobQueueOptions,
  JobType,
  NewJob,
} from './job-queue.js';
export type { JobLease, JobTable, RetryKind } from './job-table.js';
export { isTransient } from './transient.js';
export type { Outbox, OutboxEntry } from './outbox.js';
export { TableJobQueue } from './table-job-queue.js';
export { MemoryOutbox } from './memory-outbox.js';
export { RabbitJobQueue, type RabbitJobQueueOptions } from './rabbitmq.js';
export { rabbitNames, deleteTopology, type RabbitNames } from './rabbit-topology.js';
export { resolveOptions } from './queue-options.js';
