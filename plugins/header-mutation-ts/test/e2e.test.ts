// The AssemblyScript twin's end-to-end test, run against this TypeScript build under `pwts run`.
import { headerMutationEndToEndTests } from "../../header-mutation/test/header-mutation-behaviour.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";

headerMutationEndToEndTests(pluginDirOf(import.meta.url), 10013);
