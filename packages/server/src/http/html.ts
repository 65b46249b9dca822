/** Markup that is already safe: made by {@link html}, never from a string a user chose. */
export class SafeHtml {
  constructor(readonly markup: string) {}

  toString(): string {
    return this.markup;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * A tagged template for HTML: every interpolated value is escaped (text and
 * quoted attributes alike) unless it is {@link SafeHtml}; arrays are joined,
 * `undefined` and `false` leave nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let markup = strings[0]!;
  values.forEach((value, i) => {
    markup += piece(value) + strings[i + 1]!;
  });
  return new SafeHtml(markup);
}

function piece(value: unknown): string {
  if (value === undefined || value === false || value === null) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(piece).join('');
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
