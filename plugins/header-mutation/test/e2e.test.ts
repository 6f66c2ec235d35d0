import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { headerMutationEndToEndTests } from "./header-mutation-behaviour.ts";

headerMutationEndToEndTests(pluginDirOf(import.meta.url), 10003);
