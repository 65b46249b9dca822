// Runs a gateway as its own OS process (to measure its memory or kill it).
// Usage: node gateway-process.mjs '<GatewayFlags JSON>'; prints {url} once listening.
import { parseGatewayConfig, startGateway } from '@legim/server';

const gateway = await startGateway(
  parseGatewayConfig({
    flags: JSON.parse(process.argv[2]),
    env: { LEGIM_CHECK_ANSWERS: process.env.LEGIM_CHECK_ANSWERS },
  }),
);
process.stdout.write(JSON.stringify({ url: gateway.url }) + '\n');
const stop = () => gateway.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
