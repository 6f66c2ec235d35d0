// The plugin configuration: blocked host suffixes and exact names, and the local reply to send.

import { JsonKind, JsonValue } from "@proxy-wasm-ts/sdk/assembly";
import { integerMember, readConfigObject } from "../../shared-assembly/plugin-config-json";
import { normalizeHost } from "./host-name";

export class BlocklistConfig {
  /** Lower-case suffixes, e.g. ".example.com". */
  suffixes: Array<string> = [".example.com"];
  /** Lower-case exact host names. */
  hosts: Array<string> = [];
  status: u32 = 451;
  body: string = "blocked by wasm";
  error: string = "";
}

const KNOWN_KEYS = ["suffixes", "hosts", "status", "body"];

function rejected(config: BlocklistConfig, reason: string): BlocklistConfig {
  config.error = reason;
  return config;
}

// A list of non-empty host names, normalized; null when the member is not an array of strings.
function readNames(json: JsonValue, key: string, fallback: Array<string>): Array<string> | null {
  const member = json.get(key);
  if (member === null) return fallback;
  if (member.kind != JsonKind.Array) return null;
  const names = new Array<string>();
  for (let i = 0; i < member.length; i++) {
    const item = member.at(i)!;
    if (item.kind != JsonKind.String) return null;
    const name = normalizeHost(item.stringValue);
    if (name.length == 0) return null;
    names.push(name);
  }
  return names;
}

/** Reads the JSON configuration; empty means all defaults. */
export function parseBlocklistConfig(bytes: ArrayBuffer): BlocklistConfig {
  const config = new BlocklistConfig();
  const read = readConfigObject(bytes, KNOWN_KEYS);
  if (read.error.length > 0) return rejected(config, read.error);
  const json = read.json;
  if (json === null) return config;
  const suffixes = readNames(json, "suffixes", config.suffixes);
  if (suffixes === null) return rejected(config, "\"suffixes\" must be an array of non-empty host name suffixes");
  const hosts = readNames(json, "hosts", config.hosts);
  if (hosts === null) return rejected(config, "\"hosts\" must be an array of non-empty host names");
  config.suffixes = suffixes;
  config.hosts = hosts;
  const status = integerMember(json, "status", 200, 599, <f64>config.status);
  if (isNaN(status)) return rejected(config, "\"status\" must be an HTTP status code between 200 and 599");
  config.status = <u32>status;
  const body = json.get("body");
  if (body !== null) {
    if (body.kind != JsonKind.String) return rejected(config, "\"body\" must be a string");
    config.body = body.stringValue;
  }
  return config;
}
