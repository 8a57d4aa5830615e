import type { Command } from "commander";
import {
  type CliIo,
  type GlobalOptions,
  imageArguments,
  withRepository,
  writeJson,
  writeLine,
} from "../context.js";

export function registerDigest(program: Command, io: CliIo): void {
  program
    .command("digest")
    .description("print the digest of REF (of one platform's manifest with --platform)")
    .argument("<ref>", "image reference")
    .option("--platform <os/arch[/variant]>", "digest of this platform's manifest instead of the index")
    .action(async (refText: string, options: { platform?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const { ref, target, resolve } = imageArguments(refText, options.platform);
      await withRepository(globals, ref, async (repo) => {
        // Without a platform a HEAD is enough: nothing is downloaded.
        const descriptor = resolve.platform
          ? (await repo.resolve(target, resolve)).descriptor
          : await repo.manifests.head(target);
        if (globals.json)
          writeJson(io, {
            digest: descriptor.digest,
            mediaType: descriptor.mediaType,
            size: descriptor.size,
          });
        else writeLine(io, descriptor.digest);
      });
    });
}
