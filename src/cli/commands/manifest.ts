import type { Command } from "commander";
import { UsageError } from "../../core/errors.js";
import { referenceTarget } from "../../core/reference.js";
import {
  type CliIo,
  cliReference,
  type GlobalOptions,
  openImage,
  pinnedDigest,
  withRegistry,
  withRepository,
  writeJson,
} from "../context.js";

export function registerManifest(program: Command, io: CliIo): void {
  const manifest = program.command("manifest").description("read and write manifests");
  manifest
    .command("get")
    .description("print the manifest of REF (an index unless --platform picks one image)")
    .argument(
      "<ref>",
      "image reference (alpine:3.20, 127.0.0.1:5000/a/b@sha256:…) or oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE",
    )
    .option("--platform <os/arch[/variant]>", "resolve an index to the manifest of this platform")
    .option("--raw", "print the exact bytes the registry served")
    .action(async (refText: string, options: { platform?: string; raw?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await openImage(globals, refText, options.platform, async ({ manifest: parsed }) => {
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

  manifest
    .command("put")
    .description("push the manifest read from stdin to REF (a tag or a digest)")
    .argument("<ref>", "image reference")
    .option("--media-type <type>", "Content-Type to push with (default: the document's mediaType)")
    .action(async (refText: string, options: { mediaType?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = cliReference(refText);
      const bytes = await readStdin(io, 4 * 1024 * 1024);
      const [{ parseManifest }, { InvalidInputError, isRegkitError }] = await Promise.all([
        import("../../core/manifest.js"),
        import("../../core/errors.js"),
      ]);
      let parsed: ReturnType<typeof parseManifest>;
      try {
        parsed = parseManifest(bytes, options.mediaType);
      } catch (error) {
        // What the user sent is invalid input (exit 2), not a registry's protocol breach.
        if (!isRegkitError(error)) throw error;
        throw new InvalidInputError(`stdin is not a valid manifest: ${error.message}`, { code: error.code });
      }
      const mediaType = options.mediaType ?? parsed.mediaType;
      await withRegistry(globals, async (registry) => {
        const pushed = await registry
          .repository(ref.registry, ref.repository)
          .pushManifest(referenceTarget(ref), bytes, mediaType);
        if (globals.json) writeJson(io, pushed.descriptor);
        else io.stdout.write(`${pushed.descriptor.digest}\n`);
      });
    });

  manifest
    .command("delete")
    .description("delete the manifest REF points at")
    .argument("<ref>", "image reference (tag or digest)")
    .action((refText: string, _options: unknown, command: Command) =>
      deleteManifest(io, command.optsWithGlobals<GlobalOptions>(), refText),
    );
}

/** `manifest delete` and `delete`: resolve a tag to its digest, delete the manifest (its tags go with it). */
export async function deleteManifest(io: CliIo, globals: GlobalOptions, refText: string): Promise<void> {
  const ref = cliReference(refText);
  await withRepository(globals, ref, async (repo) => {
    const digest = await pinnedDigest(repo, ref);
    await repo.manifests.delete(digest);
    if (globals.json) writeJson(io, { deleted: digest });
    else io.stdout.write(`deleted ${digest}\n`);
  });
}

/** Reads all of stdin, refusing more than `limit` bytes (a manifest is small). */
async function readStdin(io: CliIo, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) throw new UsageError(`stdin holds more than ${limit} bytes: not a manifest`);
    chunks.push(Buffer.from(chunk as Buffer));
  }
  return Buffer.concat(chunks);
}
