#!/usr/bin/env node
import module from "node:module";

// Cache compiled code on disk: most of a short command's time is loading modules.
module.enableCompileCache?.();
const { run } = await import("./program.js");

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
