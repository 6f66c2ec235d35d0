import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { regionalRoutingEndToEndTests } from "./regional-routing-end-to-end.ts";

regionalRoutingEndToEndTests(pluginDirOf(import.meta.url));
