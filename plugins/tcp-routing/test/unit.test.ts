import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { tcpRoutingUnitTests } from "../../test-support/tcp-routing-behaviour.ts";

tcpRoutingUnitTests(pluginDirOf(import.meta.url));
