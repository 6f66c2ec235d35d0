// The AssemblyScript twin's harness tests, run against this TypeScript build.
import { headerMutationUnitTests } from "../../test-support/header-mutation-behaviour.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";

headerMutationUnitTests(pluginDirOf(import.meta.url));
