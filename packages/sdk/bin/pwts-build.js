#!/usr/bin/env node
// The SDK's own build command, from the JavaScript that `tsc -b` emits into dist/.
await import("../dist/build-command.js");
