// Writes docs/openapi.json from a real gateway's GET /v1/openapi.json
// (a throwaway one: embedded index in a temp folder, no nodes, no workers).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGatewayConfig, startGateway } from '@legim/server';

const target = new URL('../../../docs/openapi.json', import.meta.url);
const dataDir = mkdtempSync(join(tmpdir(), 'legim-openapi-'));
const gateway = await startGateway(
  parseGatewayConfig({ flags: { port: 0, host: '127.0.0.1', data: dataDir, workers: 0, store: false }, env: {} }),
);
try {
  const document = await (await fetch(`${gateway.url}/v1/openapi.json`)).json();
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${target.pathname}`);
} finally {
  await gateway.close();
  rmSync(dataDir, { recursive: true, force: true });
}
