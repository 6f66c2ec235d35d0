// The AssemblyScript twin's harness tests, run against this TypeScript build.

import { tcpRoutingUnitTests } from "../../tcp-routing/test/tcp-routing-behaviour.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";

tcpRoutingUnitTests(pluginDirOf(import.meta.url));
