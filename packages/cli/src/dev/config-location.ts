/**
 * Where in the config file a configuration error is: the data plane names the field by its path
 * (`static_resources.listeners[0].address`), a person wants `envoy.yaml:12:9`. The `yaml` library (which
 * read the file) gives the node's offset; its LineCounter turns that into a line and column.
 */
import { isNode, LineCounter, parseDocument } from "yaml";

/** `a.b[0].c` -> ["a", "b", 0, "c"]. */
function segments(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/**
 * The 1-based line and column of the file's first YAML syntax error, else of the deepest node on `path`
 * that exists in `text`; undefined when neither can be placed.
 */
export function locateInConfig(text: string, path: string): { line: number; col: number } | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const syntax = doc.errors[0]?.linePos?.[0];
  if (syntax) return syntax;
  const parts = segments(path);
  for (let n = parts.length; n > 0; n--) {
    const node = doc.getIn(parts.slice(0, n), true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { line, col };
    }
  }
  return undefined;
}
