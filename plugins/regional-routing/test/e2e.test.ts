import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { regionalRoutingEndToEndTests } from "../../test-support/regional-routing-end-to-end.ts";

regionalRoutingEndToEndTests(pluginDirOf(import.meta.url));
