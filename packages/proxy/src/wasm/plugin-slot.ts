/**
 * A Wasm filter's place in a filter chain, holding the plugin its new streams get. Replacing the plugin is
 * the seam Envoy's extension config discovery (ECDS) uses: the filter factory reads the slot when a stream
 * starts (source/common/filter/config_discovery_impl.cc DynamicFilterConfigProviderImpl::onConfigUpdate
 * swaps the factory callback for new streams), so streams in flight keep the plugin they started with and
 * finish on the old VM.
 */
import type { Plugin } from "@proxy-wasm-ts/host";
import type { WasmPluginConfig } from "../config/model.ts";

export class PluginSlot {
  constructor(
    /** The plugin new streams of this filter get. */
    public plugin: Plugin,
    /** The filter's configuration (its code is reloaded from `config.code`). */
    readonly config: WasmPluginConfig,
    /** sha256 of the module bytes the plugin runs. */
    public codeHash: string,
  ) {}
}
