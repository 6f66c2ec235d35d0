import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { headerMutationUnitTests } from "./header-mutation-behaviour.ts";

headerMutationUnitTests(pluginDirOf(import.meta.url));
