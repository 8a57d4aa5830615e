import type { Command } from "commander";
import {
  type CliIo,
  cliRepository,
  type GlobalOptions,
  isLocalLocation,
  withRegistry,
  writeJson,
  writeLine,
} from "../context.js";
import { parsePositive } from "../options.js";

/**
 * Prints a listing: one line per entry as pages arrive, or with --json one
 * array written only once every page has arrived, so that stdout holds valid
 * JSON or nothing (a failure on page 3 must not leave a bare `[`).
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
  const all: unknown[] = [];
  for await (const item of items) all.push(value(item));
  writeJson(io, all);
}

export function registerList(program: Command, io: CliIo): void {
  program
    .command("ls")
    .alias("tags")
    .description("list the tags of REPO, all pages")
    .argument(
      "<repo>",
      "repository (alpine, 127.0.0.1:5000/a/b), oci:DIR, oci-archive:FILE or docker-archive:FILE",
    )
    .option("--page-size <n>", "tags per request", parsePositive)
    .action(async (repoText: string, options: { pageSize?: number }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (isLocalLocation(repoText)) {
        const { localTags } = await import("../../store/location.js");
        await printListing(io, globals.json, localTags(repoText));
        return;
      }
      const { registry: host, repository } = cliRepository(repoText);
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
