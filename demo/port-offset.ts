/**
 * `--port-offset N` moves every port of the demo by N, so it can run beside something that already holds
 * 8080 or 10000. Envoy configs are shifted by rewriting each `port_value` in the parsed YAML (a parser, not
 * text substitution, so comments and strings that mention a port are left alone).
 */
import { isScalar, parseDocument, visit } from "yaml";

/** Parses a `--port-offset` value: a whole number that keeps every demo port within 1..65535. */
export function parsePortOffset(text: string | undefined): number {
  if (text === undefined) return 0;
  const value = Number(text);
  if (!Number.isInteger(value) || value < -7000 || value > 50000) {
    throw new Error(`--port-offset must be a whole number between -7000 and 50000, got "${text}"`);
  }
  return value;
}

/** The Envoy YAML with `offset` added to every `port_value`. */
export function shiftEnvoyPorts(yamlText: string, offset: number): string {
  if (offset === 0) return yamlText;
  const doc = parseDocument(yamlText);
  visit(doc, {
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === "port_value" && isScalar(pair.value)) {
        const port = Number(pair.value.value);
        if (Number.isInteger(port) && port > 0) pair.value.value = port + offset;
      }
    },
  });
  return doc.toString();
}
