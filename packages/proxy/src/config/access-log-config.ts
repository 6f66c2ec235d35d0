/** `envoy.config.accesslog.v3.AccessLog` with the stdout, stderr and file loggers. */
import { isAbsolute, resolve } from "node:path";
import { readDataSourceText } from "./data-source.ts";
import type { ConfigMessage, ConfigValue } from "./fields.ts";
import type { AccessLogConfig } from "./model.ts";
import { expectType, readTypedConfig } from "./typed-config.ts";

/** Envoy's default text format (`%RESPONSE_CODE_DETAILS%`-free form used since 1.x for HTTP and TCP). */
export const DEFAULT_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% " +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

function readLogFormat(m: ConfigMessage, baseDir: string): AccessLogConfig["format"] {
  const chosen = m.oneOf(["log_format", "format", "json_format"], false);
  if (!chosen) return { kind: "text", template: DEFAULT_ACCESS_LOG_FORMAT };
  const [field, value] = chosen;
  if (field === "format") return { kind: "text", template: value.string() };
  if (field === "json_format") return { kind: "json", fields: value.message().raw };
  const f = value.message();
  const [kind, v] = f.oneOf(["text_format", "text_format_source", "json_format"])!;
  f.accept("omit_empty_values", "content_type");
  if (f.has("formatters")) f.optional("formatters")!.fail("custom formatters are not supported");
  f.finish();
  if (kind === "text_format") return { kind: "text", template: v.string() };
  if (kind === "text_format_source") return { kind: "text", template: readDataSourceText(v, baseDir) };
  return { kind: "json", fields: v.message().raw };
}

export function readAccessLog(value: ConfigValue, baseDir: string): AccessLogConfig {
  const log = value.message();
  log.accept("name");
  if (log.has("filter")) log.optional("filter")!.fail("access log filters are not supported");
  const typed = readTypedConfig(log.required("typed_config"));
  log.finish();
  expectType(typed, [
    "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
    "envoy.extensions.access_loggers.stream.v3.StderrAccessLog",
    "envoy.extensions.access_loggers.file.v3.FileAccessLog",
  ]);
  const m = typed.message;
  let sink: AccessLogConfig["sink"];
  if (typed.type.endsWith("StdoutAccessLog")) sink = { kind: "stdout" };
  else if (typed.type.endsWith("StderrAccessLog")) sink = { kind: "stderr" };
  else {
    const path = m.required("path").nonEmptyString();
    if (path === "/dev/stdout") sink = { kind: "stdout" };
    else if (path === "/dev/stderr") sink = { kind: "stderr" };
    else sink = { kind: "file", path: isAbsolute(path) ? path : resolve(baseDir, path) };
  }
  const format = readLogFormat(m, baseDir);
  m.finish();
  return { sink, format };
}

export function readAccessLogs(value: ConfigValue | undefined, baseDir: string): AccessLogConfig[] {
  return value ? value.list().map((v) => readAccessLog(v, baseDir)) : [];
}
