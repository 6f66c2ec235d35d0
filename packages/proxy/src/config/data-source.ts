/** `envoy.config.core.v3.DataSource`: filename, inline_string or inline_bytes. */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { ConfigValue } from "./fields.ts";

export function readDataSource(value: ConfigValue, baseDir: string): Uint8Array {
  const m = value.message();
  const [kind, v] = m.oneOf(["filename", "inline_string", "inline_bytes", "environment_variable"])!;
  m.accept("watched_directory");
  m.finish();
  switch (kind) {
    case "filename": {
      const file = v.nonEmptyString();
      const full = isAbsolute(file) ? file : resolve(baseDir, file);
      try {
        return new Uint8Array(readFileSync(full));
      } catch (err) {
        return v.fail(`cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    case "inline_string":
      return new Uint8Array(Buffer.from(v.string(), "utf8"));
    case "inline_bytes":
      return new Uint8Array(Buffer.from(v.string(), "base64"));
    default: {
      const name = v.nonEmptyString();
      const env = process.env[name];
      if (env === undefined) return v.fail(`environment variable ${name} is not set`);
      return new Uint8Array(Buffer.from(env, "utf8"));
    }
  }
}

export function readDataSourceText(value: ConfigValue, baseDir: string): string {
  return Buffer.from(readDataSource(value, baseDir)).toString("utf8");
}
