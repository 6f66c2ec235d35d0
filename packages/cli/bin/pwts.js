#!/usr/bin/env node
// Plain JavaScript built from src/ by `tsc -b` (npm's `prepare` in a checkout, before `npm publish` for the
// registry): no TypeScript loader at start-up.
import { main } from "../dist/main.js";

process.exitCode = await main(process.argv.slice(2));
