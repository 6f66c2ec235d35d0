// The AssemblyScript twin's end-to-end tests, run against this TypeScript build on the local data plane.

import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { regionalRoutingEndToEndTests } from "../../test-support/regional-routing-end-to-end.ts";

regionalRoutingEndToEndTests(pluginDirOf(import.meta.url));
