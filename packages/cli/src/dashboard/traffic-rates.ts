import type { Stats } from '@legim/sdk';

/** Per-second rates of the gateway's traffic counters between two readings of `GET /v1/stats`. */
export interface TrafficRates {
  uploads: number;
  uploadBytes: number;
  downloads: number;
  downloadBytes: number;
  refused: number;
}

/**
 * The rates from `previous` to `current`, timed by the gateway's own `at`;
 * undefined when they cannot be told: no earlier reading, no time between
 * them, or counters that went down (the gateway restarted and counts from zero).
 */
export function trafficRates(previous: Stats | undefined, current: Stats): TrafficRates | undefined {
  if (previous === undefined) return undefined;
  const seconds = (Date.parse(current.at) - Date.parse(previous.at)) / 1000;
  if (!(seconds > 0)) return undefined;
  const rates = {} as TrafficRates;
  for (const key of Object.keys(current.traffic) as Array<keyof TrafficRates>) {
    const delta = current.traffic[key] - previous.traffic[key];
    if (!(delta >= 0)) return undefined;
    rates[key] = delta / seconds;
  }
  return rates;
}
