import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { quietLogger } from '../../../test-support/logger.js';
import { ENGINES } from '../../../test-support/test-database.js';
import { parseDatabase } from '../src/backends/database-config.js';
import { parseGatewayConfig } from '../src/config.js';
import { FileKeyring } from '../src/encryption/file-keyring.js';
import { resolveMasterKeys } from '../src/encryption/local-master-key.js';
import { KeyRewrapper } from '../src/encryption/key-rewrapper.js';
import { MasterKeys } from '../src/encryption/master-keys.js';
import { fileRecord } from './index-contract/fixtures.js';
import { useEngine } from './index-contract/harness.js';

const NO_REPLICAS = { durable: [], pending: [] };
const sealed = { size: 180, sha256: 'a'.repeat(64) };

describe.each(ENGINES)('master key rotation (%s)', (kind) => {
  const harness = useEngine(kind);

  it('rewraps every live key under the new master key; the data keys, hence the stored bytes, stay', async () => {
    const index = harness.engine().metadata;
    const [oldLine, newLine] = [MasterKeys.generateLine(), MasterKeys.generateLine()];
    const before = new FileKeyring(index, MasterKeys.parse(oldLine, 'old'));
    const dataKeys = new Map<string, Buffer>();
    for (let i = 0; i < 7; i++) {
      const file = fileRecord({ sealed });
      const key = before.newKey(file.id);
      await index.insertFile(file, NO_REPLICAS, Date.now(), undefined, key.wrapped);
      dataKeys.set(file.id, key.dataKey);
    }
    // One destroyed before the rotation must stay destroyed.
    const [shredded] = dataKeys.keys();
    await index.destroyFileKey(shredded!, Date.now());
    dataKeys.delete(shredded!);

    const rotated = MasterKeys.parse(`${newLine}\n${oldLine}`, 'rotated');
    expect(await new KeyRewrapper(index, rotated, quietLogger).rewrapAll()).toBe(6);
    expect(await index.fileKeyCounts()).toEqual({ [rotated.current.kid]: 6 });
    // Only the new key is needed from now on.
    const after = new FileKeyring(index, MasterKeys.parse(newLine, 'new'));
    for (const [fileId, dataKey] of dataKeys) expect((await after.dataKey(fileId))!.equals(dataKey)).toBe(true);
    expect(await after.dataKey(shredded!)).toBeUndefined();
    // A second pass finds nothing left to do.
    expect(await new KeyRewrapper(index, rotated, quietLogger).rewrapAll()).toBe(0);
  });

  it('leaves a key under a master key it lacks for a process that has it', async () => {
    const index = harness.engine().metadata;
    const stranger = MasterKeys.parse(MasterKeys.generateLine(), 'stranger');
    const file = fileRecord({ sealed });
    await index.insertFile(file, NO_REPLICAS, Date.now(), undefined, stranger.wrap(file.id, randomBytes(32)));
    const mine = MasterKeys.parse(MasterKeys.generateLine(), 'mine');
    expect(await new KeyRewrapper(index, mine, quietLogger).rewrapAll()).toBe(0);
    expect((await index.wrappedKey(file.id))!.kid).toBe(stranger.current.kid);
  });
});

describe('master key configuration', () => {
  const dirs: string[] = [];
  const dir = () => {
    dirs.push(mkdtempSync(join(tmpdir(), 'legim-keys-')));
    return dirs.at(-1)!;
  };
  afterAll(() => {
    for (const path of dirs) rmSync(path, { recursive: true, force: true });
  });

  it('reads a key file or LEGIM_MASTER_KEY, not both, and says what is wrong with one line', () => {
    const path = join(dir(), 'keys');
    const line = MasterKeys.generateLine();
    writeFileSync(path, `# rotated 2026-12\n${line}\n`);
    const config = parseGatewayConfig({ flags: { masterKeyFile: path, encrypt: true } });
    expect(config.encrypt).toBe(true);
    expect(config.masterKeys!.current.kid).toBe(line.split(':')[0]);
    expect(parseGatewayConfig({ env: { LEGIM_MASTER_KEY: line } }).masterKeys!.current.kid).toBe(line.split(':')[0]);
    const refusals = [
      { flags: { masterKeyFile: path }, env: { LEGIM_MASTER_KEY: line } },
      { flags: { masterKeyFile: join(dir(), 'missing') } },
      { env: { LEGIM_MASTER_KEY: 'not-a-key' } },
      { env: { LEGIM_ENCRYPT: 'maybe' } },
    ];
    for (const input of refusals) {
      expect(() => parseGatewayConfig(input)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
  });

  it('generates <data>/master.key (0600) once on one host, and needs a given key on PostgreSQL', () => {
    const dataDir = dir();
    const sqlite = parseDatabase(undefined, dataDir);
    const first = resolveMasterKeys({ encrypt: true, masterKeys: undefined, dataDir, database: sqlite })!;
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    // Read back later, also with --encrypt off: files encrypted before stay readable.
    const again = resolveMasterKeys({ encrypt: false, masterKeys: undefined, dataDir, database: sqlite })!;
    expect(again.current.kid).toBe(first.current.kid);
    expect(
      resolveMasterKeys({ encrypt: false, masterKeys: undefined, dataDir: dir(), database: sqlite }),
    ).toBeUndefined();
    const postgres = parseDatabase('postgres://u@127.0.0.1:1/legim', dataDir);
    expect(() =>
      resolveMasterKeys({ encrypt: true, masterKeys: undefined, dataDir: dir(), database: postgres }),
    ).toThrow(/--master-key-file or LEGIM_MASTER_KEY/);
  });
});
