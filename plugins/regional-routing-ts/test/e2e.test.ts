// The AssemblyScript twin's end-to-end tests, run against this TypeScript build on the local data plane.
import { regionalRoutingEndToEndTests } from "../../regional-routing/test/regional-routing-end-to-end.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";

regionalRoutingEndToEndTests(pluginDirOf(import.meta.url));
