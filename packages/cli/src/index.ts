/** The CLI as a library, for tests and tools that embed it. The bin is `main.ts`. */
export { buildProgram, type GlobalOptions } from './program.js';
export { describeFailure, CliError, type Failure } from './errors.js';
export { Settings, normalizeServerUrl, maskSecret, DEFAULT_SERVER, type SettingKey } from './settings.js';
export {
  startLocalCluster,
  defaultDataDir,
  type LocalClusterOptions,
  type RunningCluster,
  type ClusterEvent,
} from './cluster/local-cluster.js';
export { formatBytes, formatRelative, formatLocalTime } from './output.js';
export { ensureLocalTls, type LocalTlsFiles } from './cluster/local-ca.js';
