// The AssemblyScript twin's harness tests, run against this TypeScript build.
import { regionalRoutingUnitTests } from "../../regional-routing/test/regional-routing-behaviour.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";

regionalRoutingUnitTests(pluginDirOf(import.meta.url));
