import { createLogger } from '@legim/node';

/** For components built in a test process: tests check what they do, not what they log. */
export const quietLogger = createLogger({ level: 'silent', name: 'test' });
