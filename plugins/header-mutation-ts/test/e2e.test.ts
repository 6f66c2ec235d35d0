// The AssemblyScript twin's end-to-end test, run against this TypeScript build under `pwts run`.
import { headerMutationEndToEndTests } from "../../test-support/header-mutation-behaviour.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";

headerMutationEndToEndTests(pluginDirOf(import.meta.url), 10013);
