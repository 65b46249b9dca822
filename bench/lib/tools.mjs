import { spawnSync } from 'node:child_process';

const INSTALL_HINT = 'install them with: apt-get update && apt-get install -y nginx wrk';

/** Finds nginx and wrk (the reference server and the load generator) or explains how to get them. */
export function findTools() {
  const nginx = locate('nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx']);
  const wrk = locate('wrk', ['/usr/bin/wrk', '/usr/local/bin/wrk']);
  const missing = [!nginx && 'nginx', !wrk && 'wrk'].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(`the benchmarks need ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed; ${INSTALL_HINT}`);
  }
  return { nginx, wrk, nginxVersion: versionOf(nginx, ['-v']), wrkVersion: versionOf(wrk, ['--version']) };
}

function locate(name, candidates) {
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  if (found) return found;
  // /usr/sbin is not on every user's PATH.
  return candidates.find((path) => spawnSync(path, ['-h'], { stdio: 'ignore' }).error === undefined);
}

function versionOf(binary, args) {
  const run = spawnSync(binary, args, { encoding: 'utf8' });
  return `${run.stdout}${run.stderr}`.split('\n')[0].trim();
}
