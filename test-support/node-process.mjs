// Runs one storage node as its own OS process, so a test can SIGKILL it like
// a real node failure. Usage: node node-process.mjs '<NodeConfig JSON>'
// Prints one JSON line {nodeId, url} once listening; exits once drained and removed.
// `tlsFiles: {cert, key, ca}` (paths) are read as `legim node start` reads its flags.
import { loadTlsSettings, startNode } from '@legim/node';

const { tlsFiles, ...config } = JSON.parse(process.argv[2]);
if (tlsFiles) config.tls = loadTlsSettings(tlsFiles);
const node = await startNode(config);
process.stdout.write(JSON.stringify({ nodeId: node.nodeId, url: node.url }) + '\n');
const stop = () => node.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
void node.removed.then(stop);
