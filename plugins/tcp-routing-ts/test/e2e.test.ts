// The AssemblyScript twin's end-to-end tests, run against this TypeScript build on the local data plane.

import { tcpRoutingEndToEndTests } from "../../tcp-routing/test/tcp-routing-end-to-end.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";

tcpRoutingEndToEndTests(pluginDirOf(import.meta.url));
