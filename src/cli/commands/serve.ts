import { type Command, InvalidArgumentError } from "commander";
import { type CliIo, type GlobalOptions, writeLine } from "../context.js";

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be a port number 0-65535");
  return n;
}

export function registerServe(program: Command, io: CliIo): void {
  program
    .command("serve")
    .description("run regkit's embedded OCI registry until SIGINT/SIGTERM")
    .option("--port <port>", "port to listen on (0 picks a free one)", parsePort, 5000)
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .action(async (options: { port: number; host: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      // Loaded here so that other commands never pay for the server's router.
      const { startRegistryServer } = await import("../../sim/server.js");
      const server = await startRegistryServer({ host: options.host, port: options.port });
      if (globals.json) io.stdout.write(`${JSON.stringify({ registry: server.url })}\n`);
      else writeLine(io, `registry ${server.url}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
    });
}
