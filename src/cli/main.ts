#!/usr/bin/env node
import module from "node:module";

// Cache compiled code on disk: most of a short command's time is loading modules.
module.enableCompileCache?.();
const { run } = await import("./program.js");

// `regkit ls … | head -1`: the reader went away; stop quietly, as Unix tools do on SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
