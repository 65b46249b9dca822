import { createLogger, type Logger } from './create-logger.js';

/**
 * @deprecated A stopgap for the gateway's HTTP edge, which passes it to
 * `sendError` until it is handed the gateway's own logger (and its
 * `--log-level`): remove it then. Nothing else may use it.
 */
export const logToStderr: Logger = createLogger({ name: 'gateway' });
