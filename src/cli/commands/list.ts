import type { Command } from "commander";
import { parseRepository } from "../../core/reference.js";
import { type CliIo, type GlobalOptions, withRegistry, writeLine } from "../context.js";
import { parsePositive } from "../options.js";

/**
 * Streams a listing: one line per entry as pages arrive, or one JSON array
 * with --json (written as it goes, so a long listing never sits in memory).
 */
export async function printListing<T>(
  io: CliIo,
  json: boolean | undefined,
  items: AsyncIterable<T>,
  line: (item: T) => string = String,
  value: (item: T) => unknown = (item) => item,
): Promise<void> {
  if (!json) {
    for await (const item of items) writeLine(io, line(item));
    return;
  }
  io.stdout.write("[");
  let first = true;
  for await (const item of items) {
    io.stdout.write(`${first ? "" : ","}\n  ${JSON.stringify(value(item))}`);
    first = false;
  }
  io.stdout.write(first ? "]\n" : "\n]\n");
}

export function registerList(program: Command, io: CliIo): void {
  program
    .command("ls")
    .alias("tags")
    .description("list the tags of REPO, all pages")
    .argument("<repo>", "repository, e.g. alpine or 127.0.0.1:5000/a/b")
    .option("--page-size <n>", "tags per request", parsePositive)
    .action(async (repoText: string, options: { pageSize?: number }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const { registry: host, repository } = parseRepository(repoText);
      await withRegistry(globals, (registry) =>
        printListing(
          io,
          globals.json,
          registry.repository(host, repository).tags(options.pageSize ? { pageSize: options.pageSize } : {}),
        ),
      );
    });

  program
    .command("catalog")
    .description("list the repositories of REGISTRY, all pages")
    .argument("<registry>", "registry host, e.g. 127.0.0.1:5000")
    .option("--page-size <n>", "repositories per request", parsePositive)
    .action(async (host: string, options: { pageSize?: number }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await withRegistry(globals, (registry) =>
        printListing(
          io,
          globals.json,
          registry.catalog(host, options.pageSize ? { pageSize: options.pageSize } : {}),
        ),
      );
    });
}
