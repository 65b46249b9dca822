/**
 * The gateway's image process (see `image-process.ts`): makes variants with
 * sharp for the gateway, which sends it the path of each spooled original
 * over the IPC channel. Run by `child_process.fork`, never directly.
 * Arguments: the nice value to run at, and the gateway's log level.
 */
import { createLogger, isLogLevel } from '@legim/node';
import { processImage } from '../processing/index.js';
import type { ImageProcessMessage, ProcessRequest } from './image-process-protocol.js';
import { serializeError } from './image-process-protocol.js';
import { lowerPriority } from './lower-priority.js';

const level = process.argv[3] ?? 'info';
const logger = createLogger({ name: 'image-process', level: isLogLevel(level) ? level : 'info' });

if (process.send === undefined) {
  logger.fatal('the image process is started by the gateway, not by hand');
  process.exit(2);
}

// Once loaded (at normal priority, so a busy host does not stretch the start-up): every thread
// now, and the threads started later (libuv's pool, libvips' workers) inherit it.
lowerPriority(Number(process.argv[2] ?? 0), logger);

const send = (message: ImageProcessMessage) => {
  // The gateway is gone if this fails; 'disconnect' below ends this process.
  process.send?.(message, undefined, undefined, () => {});
};

process.on('message', (request: ProcessRequest) => {
  if (request?.type !== 'process') return;
  processImage(request.path, request.options).then(
    (variants) => send({ type: 'done', id: request.id, variants }),
    (error: unknown) => send({ type: 'failed', id: request.id, error: serializeError(error) }),
  );
});
// The gateway closed the channel (it is stopping) or died: nothing here is worth finishing.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group: the gateway decides when this process stops.
process.on('SIGINT', () => {});
send({ type: 'ready' });
