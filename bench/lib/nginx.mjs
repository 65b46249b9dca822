import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateNginxConfig } from '../../test-support/nginx-config.mjs';
import { freePort, waitForPort } from './net.mjs';
import { spawnTracked, failure } from './processes.mjs';

export const NGINX_WORKERS = Number(process.env.BENCH_NGINX_WORKERS ?? 1);

/**
 * Debian's nginx as the reference static server: its own prefix, pid, logs
 * and temp paths under dir, in the foreground so the bench owns the process.
 */
export async function startNginx({ binary, dir, files }) {
  const root = join(dir, 'html');
  mkdirSync(root, { recursive: true });
  for (const file of files) writeFileSync(join(root, file.name), file.bytes, { mode: 0o644 });
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), config({ dir, root, port }));
  return launch('nginx', binary, dir, port);
}

/**
 * nginx in front of gateways, with the production proxy configuration
 * (test-support/nginx-config.mjs, shown in docs/operations.md) less the
 * access log, as the static reference has none either.
 */
export async function startProxyNginx({ name, binary, dir, upstreams }) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const text = privateNginxConfig({ prefix: dir, workers: NGINX_WORKERS, upstreams, listen, accessLog: false });
  writeFileSync(join(dir, 'nginx.conf'), text);
  return launch(name, binary, dir, port);
}

async function launch(name, binary, dir, port) {
  // -e: the compiled-in error log (/var/log/nginx) is opened before the config is read.
  const proc = spawnTracked(name, binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  const ready = waitForPort(port);
  const died = proc.exited.then(({ code }) => Promise.reject(failure(proc, `exited (${code}) on start`)));
  await Promise.race([ready, died]);
  died.catch(() => {});
  return { proc, url: `http://127.0.0.1:${port}` };
}

function config({ dir, root, port }) {
  // Workers run as root when the bench does: the temp tree is not readable by nobody.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `${user}
worker_processes ${NGINX_WORKERS};
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type image/jpeg;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
}
