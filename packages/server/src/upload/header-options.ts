import type { IncomingHttpHeaders } from 'node:http';
import { LegimError, parseDuration } from '@legim/sdk';

/** A header that carries an upload option, and how its value reads as that option. */
interface OptionHeader {
  header: string;
  field: 'downloads' | 'ttl';
  value(raw: string): string;
}

const OPTION_HEADERS: readonly OptionHeader[] = [
  // transfer.sh's names, so its shell snippets work unchanged.
  { header: 'Max-Downloads', field: 'downloads', value: (raw) => raw },
  { header: 'Max-Days', field: 'ttl', value: days },
  { header: 'Legim-Downloads', field: 'downloads', value: (raw) => raw },
  { header: 'Legim-TTL', field: 'ttl', value: (raw) => raw },
];

/**
 * The options of an upload that may carry them in headers as well as in the
 * query (`PUT /`, the curl route). An option given in two places must say the
 * same thing there: which one to believe is the client's call, not ours.
 */
export function optionsWithHeaders(
  query: Record<string, string>,
  headers: IncomingHttpHeaders,
): Record<string, string> {
  const fields = { ...query };
  const sources = new Map(Object.keys(query).map((name) => [name, `the query's ${name}=`]));
  for (const option of OPTION_HEADERS) {
    // Node joins a repeated header with ", ", which no option reads as valid.
    const raw = headers[option.header.toLowerCase()]?.toString();
    if (raw === undefined) continue;
    const value = option.value(raw.trim());
    const earlier = sources.get(option.field);
    if (earlier !== undefined && !sameOption(option.field, fields[option.field]!, value)) {
      throw new LegimError(
        'INVALID_OPTION',
        `${option.field} is given twice with different values (${earlier}${fields[option.field]} and ${option.header}: ${raw}); give it once`,
      );
    }
    fields[option.field] = value;
    sources.set(option.field, `${option.header}: `);
  }
  return fields;
}

function days(raw: string): string {
  if (!/^\d+$/.test(raw))
    throw new LegimError('INVALID_OPTION', `Max-Days must be a whole number of days, got "${raw}"`);
  return `${raw}d`;
}

/** `ttl=1d` and `Max-Days: 1` agree; so do `downloads=1` and `Max-Downloads: 01`. */
function sameOption(field: 'downloads' | 'ttl', a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return field === 'ttl' ? parseDuration(a) === parseDuration(b) : /^\d+$/.test(a + b) && Number(a) === Number(b);
  } catch {
    return false;
  }
}
