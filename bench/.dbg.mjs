import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startCluster } from './lib/cluster.mjs';
import { stopAll } from './lib/processes.mjs';
const d = mkdtempSync(join(tmpdir(), 'dbg-'));
try {
  const c = await startCluster({ dir: d });
  console.log('up');
  const t0 = Date.now();
  const res = await request(`${c.gateway.url}/v1/files?downloads=1000000&ttl=1h`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: readFileSync(process.argv[2]), headersTimeout: 15000 });
  console.log(res.statusCode, await res.body.text(), Date.now() - t0);
  for (const p of [c.gateway, ...c.nodes]) console.log(p.proc.name, p.proc.tail.join('\n'));
} catch (e) { console.log('ERR', e.message); } finally { await stopAll(); rmSync(d, { recursive: true, force: true }); }
