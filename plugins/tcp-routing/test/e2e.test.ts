import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { tcpRoutingEndToEndTests } from "./tcp-routing-end-to-end.ts";

tcpRoutingEndToEndTests(pluginDirOf(import.meta.url));
