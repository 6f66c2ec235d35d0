/**
 * URL and URLSearchParams for plugins (QuickJS-NG has neither): core-js's pure-JS WHATWG implementation.
 * `pwts build` injects this file only where a plugin's code uses `URL` or `URLSearchParams` as globals
 * (esbuild `inject`), so a plugin that does not pays nothing.
 */
// @ts-expect-error core-js-pure ships no type declarations; globals.d.ts types these globals.
import URL from "core-js-pure/actual/url";
// @ts-expect-error as above
import URLSearchParams from "core-js-pure/actual/url-search-params";

export { URL, URLSearchParams };
