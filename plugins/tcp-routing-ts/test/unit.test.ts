// The AssemblyScript twin's harness tests, run against this TypeScript build.

import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { tcpRoutingUnitTests } from "../../test-support/tcp-routing-behaviour.ts";

tcpRoutingUnitTests(pluginDirOf(import.meta.url));
