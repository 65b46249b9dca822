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
 * `undefined`, `null` and `false` leave nothing.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let markup = strings[0]!;
  values.forEach((value, i) => {
    markup += piece(value) + strings[i + 1]!;
  });
  return new SafeHtml(markup);
}

/** What may be written into a page: text and numbers (escaped), safe markup, or nothing. */
type HtmlValue = string | number | SafeHtml | undefined | false | null | readonly HtmlValue[];

function piece(value: HtmlValue): string {
  if (value === undefined || value === false || value === null) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(piece).join('');
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
