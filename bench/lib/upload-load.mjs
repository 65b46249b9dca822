import { Pool } from 'undici';
import { closedLoop } from './closed-loop.mjs';

/**
 * N concurrent uploaders of the same bytes through the public API, over
 * keep-alive connections; undici keeps the client cheap on a 2-core box.
 */
export async function measureUploads({ gatewayUrl, bytes, concurrency, seconds, ca }) {
  const pool = new Pool(gatewayUrl, {
    connections: concurrency,
    pipelining: 1,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    ...(ca && { connect: { ca } }),
  });
  try {
    const upload = async () => {
      const res = await pool.request({
        method: 'POST',
        path: '/v1/files?downloads=1&ttl=1h',
        headers: { 'content-type': 'image/jpeg', 'content-length': String(bytes.length) },
        body: bytes,
      });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`upload answered ${res.statusCode}: ${text}`);
    };
    await upload(); // Warms the connection and the gateway's upload path.
    const result = await closedLoop({ concurrency, seconds, operation: upload });
    return { ...result, MBps: (result.perSec * bytes.length) / 1e6 };
  } finally {
    await pool.close();
  }
}
