import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { regionalRoutingUnitTests } from "../../test-support/regional-routing-behaviour.ts";

regionalRoutingUnitTests(pluginDirOf(import.meta.url));
