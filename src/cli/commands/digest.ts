import type { Command } from "commander";
import { parsePlatform } from "../../core/platform.js";
import { parseReference, referenceTarget } from "../../core/reference.js";
import { type CliIo, type GlobalOptions, withRegistry, writeJson, writeLine } from "../context.js";

export function registerDigest(program: Command, io: CliIo): void {
  program
    .command("digest")
    .description("print the digest of REF (of one platform's manifest with --platform)")
    .argument("<ref>", "image reference")
    .option("--platform <os/arch[/variant]>", "digest of this platform's manifest instead of the index")
    .action(async (refText: string, options: { platform?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = parseReference(refText);
      const platform = options.platform ? parsePlatform(options.platform) : undefined;
      await withRegistry(globals, async (registry) => {
        const repo = registry.repository(ref.registry, ref.repository);
        // Without a platform a HEAD is enough: nothing is downloaded.
        const descriptor = platform
          ? (await repo.resolve(referenceTarget(ref), { platform })).descriptor
          : await repo.manifests.head(referenceTarget(ref));
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
