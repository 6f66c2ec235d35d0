// Globals a plugin running on @proxy-wasm-ts/js has besides ECMAScript's own (QuickJS-NG implements
// ES2023): `console` (writes to proxy_log), UTF-8 TextEncoder / TextDecoder and crypto.getRandomValues. Add
// "types": ["@proxy-wasm-ts/js/globals"] to a plugin's tsconfig.json (no "dom", no "node").

interface PluginConsole {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

declare var console: PluginConsole;

declare class TextEncoder {
  readonly encoding: "utf-8";
  encode(input?: string): Uint8Array;
  encodeInto(input: string, destination: Uint8Array): { read: number; written: number };
}

declare class TextDecoder {
  constructor(label?: string, options?: { ignoreBOM?: boolean });
  readonly encoding: "utf-8";
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: ArrayBuffer | ArrayBufferView): string;
}

/** Web Crypto's getRandomValues, from the host's random source (no `subtle`). */
declare var crypto: {
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
};
