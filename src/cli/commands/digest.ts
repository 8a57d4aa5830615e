import type { Command } from "commander";
import {
  type CliIo,
  type GlobalOptions,
  imageArguments,
  isLocalLocation,
  withRepository,
  writeJson,
  writeLine,
} from "../context.js";

export function registerDigest(program: Command, io: CliIo): void {
  program
    .command("digest")
    .description("print the digest of REF (of one platform's manifest with --platform)")
    .argument("<ref>", "image reference, oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE")
    .option("--platform <os/arch[/variant]>", "digest of this platform's manifest instead of the index")
    .action(async (refText: string, options: { platform?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const print = (descriptor: { digest: string; mediaType: string; size: number }) => {
        if (globals.json)
          writeJson(io, {
            digest: descriptor.digest,
            mediaType: descriptor.mediaType,
            size: descriptor.size,
          });
        else writeLine(io, descriptor.digest);
      };
      if (isLocalLocation(refText)) {
        const [{ resolveLocal }, { parsePlatform }] = await Promise.all([
          import("../../store/location.js"),
          import("../../core/platform.js"),
        ]);
        print(
          (await resolveLocal(refText, options.platform ? parsePlatform(options.platform) : undefined))
            .descriptor,
        );
        return;
      }
      const { ref, target, resolve } = imageArguments(refText, options.platform);
      await withRepository(globals, ref, async (repo) => {
        // Without a platform a HEAD is enough: nothing is downloaded.
        print(
          resolve.platform
            ? (await repo.resolve(target, resolve)).descriptor
            : await repo.manifests.head(target),
        );
      });
    });
}
