/**
 * Envoy's tag extraction: each extractor's regex runs on the stat name; the first capture group is cut out
 * of the name and the second (or the first, if there is one group) becomes the tag value. Custom
 * `stats_tags` run before the built-in extractors, as in Envoy's TagProducerImpl.
 */
import type { StatsTagConfig } from "../config/model.ts";

export interface TagExtractor {
  name: string;
  regex?: RegExp;
  fixedValue?: string;
}

/** The subset of Envoy's default extractors (source/common/config/well_known_names.cc) this proxy emits. */
const DEFAULT_EXTRACTORS: TagExtractor[] = [
  { name: "envoy.cluster_name", regex: /^cluster\.((.+?)\.)/ },
  { name: "envoy.http_conn_manager_prefix", regex: /^http\.((.*?)\.)/ },
  { name: "envoy.listener_address", regex: /^listener\.(((?:[_.\d]*|[_[\]aAbBcCdDeEfF\d]*))\.)/ },
  { name: "envoy.tcp_prefix", regex: /^tcp\.((.*?)\.)\w+?$/ },
  { name: "envoy.response_code", regex: /_rq(_(\d{3}))$/ },
  { name: "envoy.response_code_class", regex: /_rq(_(\dxx))$/ },
];

export interface TaggedName {
  name: string;
  tags: Array<[string, string]>;
}

export class TagProducer {
  private readonly extractors: TagExtractor[];

  constructor(custom: StatsTagConfig[], useDefaults: boolean) {
    this.extractors = custom.map((t) => ({
      name: t.tagName,
      ...(t.regex !== undefined ? { regex: new RegExp(t.regex) } : {}),
      ...(t.fixedValue !== undefined ? { fixedValue: t.fixedValue } : {}),
    }));
    if (useDefaults) this.extractors.push(...DEFAULT_EXTRACTORS);
  }

  produce(statName: string): TaggedName {
    let name = statName;
    const tags: Array<[string, string]> = [];
    for (const e of this.extractors) {
      if (e.fixedValue !== undefined) {
        tags.push([e.name, e.fixedValue]);
        continue;
      }
      const m = e.regex!.exec(name);
      if (!m || m[1] === undefined) continue;
      const value = m[2] ?? m[1];
      const start = m.index + m[0].indexOf(m[1]);
      name = name.slice(0, start) + name.slice(start + m[1].length);
      tags.push([e.name, value]);
    }
    return { name, tags };
  }
}
