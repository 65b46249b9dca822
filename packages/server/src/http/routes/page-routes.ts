import { Type } from '@sinclair/typebox';
import { route, type Route } from '../route.js';
import { headerValue } from '../edge-request.js';
import type { WebFile, WebPage } from '../web-page.js';

const FILES: [path: string, file: WebFile, id: string][] = [
  ['/', 'index.html', 'getUploadPage'],
  ['/assets/app.js', 'app.js', 'getPageScript'],
  ['/assets/app.css', 'app.css', 'getPageStyle'],
  ['/assets/share.js', 'share.js', 'getShareScript'],
];

/** The browser upload page and the web pages' assets, with `HEAD` and `304` for caches. */
export function pageRoutes(page: WebPage): Route[] {
  return FILES.flatMap(([path, file, id]) =>
    (['GET', 'HEAD'] as const).map((method) =>
      route({
        id: method === 'GET' ? id : `head${id.slice(3)}`,
        method,
        path,
        summary: file === 'share.js' ? "The share page's countdown script" : `The upload page's ${file}`,
        tag: 'page',
        auth: 'public',
        query: Type.Object({}, { additionalProperties: Type.String() }),
        responses: {
          200: { description: file, contentType: page.answer(file, undefined).headers['Content-Type'] as string },
          304: { description: 'The copy the client has (If-None-Match) is current' },
        },
      }).handle(async ({ request }) => page.answer(file, headerValue(request, 'if-none-match'))),
    ),
  );
}
