import type { Command } from "commander";
import { parsePlatform } from "../../core/platform.js";
import { parseReference, referenceTarget } from "../../core/reference.js";
import { type CliIo, type GlobalOptions, withRegistry, writeJson } from "../context.js";

export function registerManifest(program: Command, io: CliIo): void {
  const manifest = program.command("manifest").description("read and write manifests");
  manifest
    .command("get")
    .description("print the manifest of REF (an index unless --platform picks one image)")
    .argument("<ref>", "image reference, e.g. alpine:3.20 or 127.0.0.1:5000/a/b@sha256:…")
    .option("--platform <os/arch[/variant]>", "resolve an index to the manifest of this platform")
    .option("--raw", "print the exact bytes the registry served")
    .action(async (refText: string, options: { platform?: string; raw?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = parseReference(refText);
      const platform = options.platform ? parsePlatform(options.platform) : undefined;
      await withRegistry(globals, async (registry) => {
        const repo = registry.repository(ref.registry, ref.repository);
        const { manifest: parsed } = await repo.resolve(referenceTarget(ref), platform ? { platform } : {});
        if (options.raw) {
          io.stdout.write(parsed.bytes);
          return;
        }
        if (globals.json) {
          writeJson(io, {
            mediaType: parsed.mediaType,
            digest: parsed.digest,
            size: parsed.bytes.byteLength,
            manifest: parsed.manifest,
          });
          return;
        }
        writeJson(io, JSON.parse(Buffer.from(parsed.bytes).toString("utf8")));
      });
    });
}
