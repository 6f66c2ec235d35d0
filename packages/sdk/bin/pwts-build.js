#!/usr/bin/env node
// Runs the TypeScript build command through tsx's loader: no build step for the SDK itself.
import { register } from "tsx/esm/api";

register();
await import("../src/build-command.ts");
