#!/usr/bin/env node
// The CLI is written in TypeScript and run through tsx's loader, so no build step stands between a
// checkout and a working `pwts`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
