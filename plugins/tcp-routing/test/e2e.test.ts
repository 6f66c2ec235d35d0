import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { tcpRoutingEndToEndTests } from "../../test-support/tcp-routing-end-to-end.ts";

tcpRoutingEndToEndTests(pluginDirOf(import.meta.url));
