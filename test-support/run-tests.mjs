#!/usr/bin/env node
// `npm test [-- <vitest filters and options>]`: makes sure every server and
// program the suites use is there (installing and starting them when run as
// root on Debian, as CI is), then builds, checks formatting, lints (the type
// check of the tests, which needs the built types, ESLint and the import rules:
// `npm run lint`) and runs vitest.
// With no filter every suite must run: a missing service stops here with one
// line saying how to install it. With a filter the user asked for a subset,
// so a missing service is only reported.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vitestArgs = process.argv.slice(2);
const subset = vitestArgs.length > 0;
const canInstall = process.getuid?.() === 0 && has('apt-get');

const PG_TEST_DIR = '/var/lib/legim-test-postgres';
const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** What the suites need: how to tell it is there, and how to get it. */
const SERVICES = [
  {
    name: 'Redis on 127.0.0.1:6379 (and redis-server for private instances)',
    apt: ['redis-server'],
    ready: async () => has('redis-server') && (await portOpen(6379)),
    start: () =>
      run('redis-server', [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
      ]),
  },
  {
    name: 'RabbitMQ on 127.0.0.1:5672 (guest/guest, and its scripts for private brokers)',
    apt: ['rabbitmq-server'],
    ready: async () => existsSync(RABBITMQ_SERVER) && (await portOpen(5672)),
    start: async () => {
      if (await portOpen(5672)) return;
      run('rabbitmq-server', ['-detached'], {
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        ERL_EPMD_ADDRESS: '127.0.0.1',
      });
      await waitForPort(5672, 90);
    },
  },
  {
    name: 'PostgreSQL on 127.0.0.1:5432 (database test, trust auth, and its programs for private instances)',
    apt: ['postgresql'],
    ready: async () => Boolean(postgresBin()) && (await portOpen(5432)),
    start: startTestPostgres,
  },
  { name: 'nginx', apt: ['nginx'], ready: async () => has('nginx') || existsSync('/usr/sbin/nginx') },
  {
    name: 'Chromium (the upload page tests)',
    apt: ['chromium'],
    ready: async () => Boolean(process.env.LEGIM_CHROMIUM) || existsSync('/usr/bin/chromium'),
  },
  { name: 'tmux (the dashboard tests)', apt: ['tmux'], ready: async () => has('tmux') },
  { name: 'curl (the TLS tests)', apt: ['curl', 'ca-certificates'], ready: async () => has('curl') },
];

await ensureServices();
// Here every suite can run: those that would skip without a browser or a terminal must run.
process.env.LEGIM_REQUIRE_BROWSER ??= '1';
process.env.LEGIM_REQUIRE_TMUX ??= '1';
// The local binaries, not npx: npx marks the environment (npm_command=exec), and the CLI under test
// would then print its hints as `npx legim`.
step(bin('turbo'), ['run', 'build', '--output-logs=errors-only']);
step('npm', ['run', 'format:check', '--silent']);
// The tests' type check (tsconfig.test.json, on the built types), ESLint and the import rules
// (dependency-cruiser: no cycles, engines only in their backends).
step('npm', ['run', 'lint', '--silent']);
step(bin('vitest'), ['run', ...vitestArgs]);

async function ensureServices() {
  let missing = await missingServices();
  if (missing.length > 0 && canInstall) {
    const packages = missing.flatMap((service) => service.apt);
    console.error(`legim tests: installing ${packages.join(' ')}`);
    run('apt-get', ['update', '-qq'], {}, 'ignore');
    run('apt-get', ['install', '-y', '-qq', ...packages], { DEBIAN_FRONTEND: 'noninteractive' }, 'ignore');
    for (const service of missing) await service.start?.();
    missing = await missingServices();
  }
  if (missing.length === 0) return;
  const install = `sudo apt-get install -y ${missing.flatMap((service) => service.apt).join(' ')}`;
  const names = missing.map((service) => service.name).join('; ');
  if (subset) {
    console.error(`legim tests: missing ${names}: suites that need them will fail (install: ${install})`);
    return;
  }
  console.error(
    `legim tests: missing ${names}. Install with \`${install}\` and start the servers, ` +
      'or run `sudo npm test`, which does both; run a subset with `npm test -- <path filter>`',
  );
  process.exit(1);
}

async function missingServices() {
  const missing = [];
  for (const service of SERVICES) if (!(await service.ready())) missing.push(service);
  return missing;
}

/**
 * A fresh Debian install of PostgreSQL asks for passwords on 127.0.0.1; the
 * suites expect trust auth there, so CI gets a cluster of its own on 5432.
 */
async function startTestPostgres() {
  if (await portOpen(5432)) return;
  const bin = postgresBin();
  const asPostgres = (command, args) => run('runuser', ['-u', 'postgres', '--', `${bin}/${command}`, ...args]);
  if (!existsSync(`${PG_TEST_DIR}/PG_VERSION`)) {
    mkdirSync(PG_TEST_DIR, { recursive: true });
    run('chown', ['postgres:postgres', PG_TEST_DIR]);
    asPostgres('initdb', ['-D', PG_TEST_DIR, '-A', 'trust', '-U', 'postgres']);
  }
  asPostgres('pg_ctl', [
    '-D',
    PG_TEST_DIR,
    '-l',
    `${PG_TEST_DIR}/server.log`,
    '-o',
    '-p 5432 -k /tmp -c listen_addresses=127.0.0.1',
    '-w',
    'start',
  ]);
  spawnSync(`${bin}/createdb`, ['-h', '127.0.0.1', '-U', 'postgres', 'test'], { stdio: 'ignore' });
}

function postgresBin() {
  if (!existsSync('/usr/lib/postgresql')) return undefined;
  const versions = readdirSync('/usr/lib/postgresql');
  const latest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return latest && existsSync(`/usr/lib/postgresql/${latest}/bin/initdb`)
    ? `/usr/lib/postgresql/${latest}/bin`
    : undefined;
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function portOpen(port) {
  return new Promise((resolvePort) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.end();
      resolvePort(true);
    });
    socket.once('error', () => resolvePort(false));
  });
}

async function waitForPort(port, seconds) {
  for (let i = 0; i < seconds; i++) {
    if (await portOpen(port)) return;
    await new Promise((wake) => setTimeout(wake, 1000));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${seconds} s`);
}

/** Runs a command to its end; `stdout: 'ignore'` keeps installers quiet (their errors still show). */
function run(command, args, env = {}, stdout = 'inherit') {
  const result = spawnSync(command, args, { stdio: ['ignore', stdout, 'inherit'], env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`);
}

function bin(name) {
  return resolve(root, 'node_modules/.bin', name);
}

function step(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
