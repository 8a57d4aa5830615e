#!/usr/bin/env node
import module, { createRequire } from "node:module";

// An older Node fails at start with one line, not later on a missing API.
const { engines } = createRequire(import.meta.url)("../../package.json") as { engines: { node: string } };
const required = Number(/\d+/.exec(engines.node)?.[0] ?? 0);
if (Number(process.versions.node.split(".")[0]) < required) {
  process.stderr.write(`regkit: needs Node.js ${engines.node}; this is ${process.version}\n`);
  process.exit(1);
}

// Cache compiled code on disk: most of a short command's time is loading modules.
module.enableCompileCache?.();
const [{ run }, { requestedSignals }] = await Promise.all([import("./program.js"), import("./telemetry.js")]);

// `regkit ls … | head -1`: the reader went away; stop quietly, as Unix tools do on SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const argv = process.argv.slice(2);
const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
const signals = requestedSignals();
if (signals.traces || signals.metrics) {
  // The SDK loads only when OTEL_* variables ask for it; spans and metrics are flushed before exit.
  const { VERSION } = await import("./program.js");
  const telemetry = await (await import("./telemetry.js")).startTelemetry(VERSION, signals);
  const command = argv.find((arg) => !arg.startsWith("-")) ?? "regkit";
  process.exitCode = await telemetry.run(`regkit ${command}`, () => run(argv, io));
  await telemetry.shutdown();
} else {
  process.exitCode = await run(argv, io);
}
await exitNow();

/**
 * A finished command exits at once: left to end by itself, Node frees its heap page by page
 * before the process goes (30–60 ms of a short command's wall time on a 2-core VM). Every
 * command has awaited its work by now; its output is written and the compile cache kept first,
 * as a natural end would.
 */
async function exitNow(): Promise<void> {
  const open = [process.stdout, process.stderr].filter((stream) => stream.writable);
  await Promise.all(open.map((stream) => new Promise<void>((resolve) => stream.write("", () => resolve()))));
  module.flushCompileCache?.();
  process.exit();
}
