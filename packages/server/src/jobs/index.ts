export type {
  Consumer,
  ConsumeOptions,
  DeadLetter,
  Job,
  JobCounts,
  JobHandler,
  JobQueue,
  JobQueueOptions,
  JobType,
  NewJob,
} from './job-queue.js';
export { createJobQueue, type CreateJobQueueOptions, type JobQueueConfig } from './create-job-queue.js';
export { SqliteJobQueue } from './sqlite.js';
export { RabbitJobQueue, type RabbitJobQueueOptions } from './rabbitmq.js';
export { rabbitNames, deleteTopology, type RabbitNames } from './rabbit-topology.js';
export { resolveOptions } from './queue-options.js';
