import type { Command } from "commander";
import { SizeLimitError } from "../../core/errors.js";
import { formatPlatform, platformFromDescriptor } from "../../core/platform.js";
import { referenceTarget } from "../../core/reference.js";
import {
  type CliIo,
  cliReference,
  type GlobalOptions,
  openImage,
  pinnedDigest,
  withRepository,
  writeJson,
  writeLine,
} from "../context.js";
import { deleteManifest } from "./manifest.js";

const MAX_CONFIG = 8 * 1024 * 1024;

async function readAll(stream: AsyncIterable<unknown>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) throw new SizeLimitError("image config", limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function registerImage(program: Command, io: CliIo): void {
  program
    .command("inspect")
    .description("media type, digest, size, platforms, layers and config summary of REF")
    .argument("<ref>", "image reference")
    .option("--platform <os/arch[/variant]>", "inspect this platform's image of an index")
    .action(async (refText: string, options: { platform?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await openImage(
        globals,
        refText,
        options.platform,
        async ({ name, manifest, descriptor, readBlob }) => {
          const summary: Record<string, unknown> = {
            reference: name,
            mediaType: manifest.mediaType,
            digest: descriptor.digest,
            size: manifest.bytes.byteLength,
            ...(manifest.manifest.artifactType ? { artifactType: manifest.manifest.artifactType } : {}),
            ...(manifest.manifest.annotations ? { annotations: manifest.manifest.annotations } : {}),
          };
          if (manifest.kind === "index") {
            summary.platforms = manifest.manifest.manifests.map((d) => ({
              platform: platformFromDescriptor(d) ? formatPlatform(platformFromDescriptor(d)!) : null,
              digest: d.digest,
              size: d.size,
            }));
          } else {
            const { config, layers } = manifest.manifest;
            summary.layers = layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
            summary.totalSize = layers.reduce((n, l) => n + l.size, 0) + config.size;
            const { parseImageConfig } = await import("../../core/manifest.js");
            const parsed = parseImageConfig(await readAll(await readBlob(config), MAX_CONFIG));
            const settings = (parsed.config ?? {}) as Record<string, unknown>;
            summary.config = {
              digest: config.digest,
              os: parsed.os,
              architecture: parsed.architecture,
              ...(parsed.variant ? { variant: parsed.variant } : {}),
              ...(parsed.created ? { created: parsed.created } : {}),
              ...(settings.Entrypoint ? { entrypoint: settings.Entrypoint } : {}),
              ...(settings.Cmd ? { cmd: settings.Cmd } : {}),
            };
          }
          if (globals.json) {
            writeJson(io, summary);
            return;
          }
          writeLine(io, `${summary.reference}@${descriptor.digest}`);
          writeLine(io, `  media type  ${manifest.mediaType} (${manifest.bytes.byteLength} bytes)`);
          for (const p of (summary.platforms as
            | Array<{ platform: string | null; digest: string }>
            | undefined) ?? []) {
            writeLine(io, `  platform    ${(p.platform ?? "?").padEnd(16)} ${p.digest}`);
          }
          const cfg = summary.config as Record<string, unknown> | undefined;
          if (cfg)
            writeLine(
              io,
              `  config      ${cfg.os}/${cfg.architecture}${cfg.variant ? `/${cfg.variant}` : ""} ${cfg.created ?? ""}`,
            );
          for (const l of (summary.layers as Array<{ digest: string; size: number }> | undefined) ?? []) {
            writeLine(io, `  layer       ${l.digest} ${l.size}`);
          }
        },
      );
    });

  program
    .command("config")
    .description("print the image config of REF")
    .argument("<ref>", "image reference")
    .option("--platform <os/arch[/variant]>", "the config of this platform's image of an index")
    .action(async (refText: string, options: { platform?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await openImage(globals, refText, options.platform, async ({ manifest, readBlob }) => {
        if (manifest.kind !== "image") {
          throw new (await import("../../core/errors.js")).UsageError(
            `${refText} is an index: choose a platform with --platform (${manifest.manifest.manifests
              .map((d) => (platformFromDescriptor(d) ? formatPlatform(platformFromDescriptor(d)!) : "?"))
              .join(", ")})`,
          );
        }
        const { config } = manifest.manifest;
        const bytes = await readAll(await readBlob(config), MAX_CONFIG);
        writeJson(io, JSON.parse(bytes.toString("utf8")));
      });
    });

  program
    .command("tag")
    .description("add tags to the manifest REF points at (no blobs move)")
    .argument("<ref>", "image reference")
    .argument("<tags...>", "new tags in the same repository")
    .action(async (refText: string, tags: string[], _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = cliReference(refText);
      const { parseTag } = await import("../../core/reference.js");
      for (const tag of tags) parseTag(tag);
      await withRepository(globals, ref, async (repo) => {
        const { descriptor, bytes } = await repo.manifests.fetch(referenceTarget(ref));
        for (const tag of tags) await repo.manifests.put(tag, bytes, descriptor.mediaType);
        if (globals.json) writeJson(io, { digest: descriptor.digest, tags });
        else writeLine(io, `${descriptor.digest} tagged ${tags.join(", ")}`);
      });
    });

  program
    .command("delete")
    .description("delete the manifest REF points at (every tag on it goes too)")
    .argument("<ref>", "image reference (tag or digest)")
    .action((refText: string, _options: unknown, command: Command) =>
      deleteManifest(io, command.optsWithGlobals<GlobalOptions>(), refText),
    );

  program
    .command("untag")
    .description(
      "delete only the tag; where the registry cannot delete tags, --dummy moves the tag to a placeholder manifest and deletes that",
    )
    .argument("<ref>", "image reference with a tag")
    .option(
      "--dummy",
      "as regctl does: point the tag at a tiny unique manifest, then delete that manifest by digest (for registries that delete only by digest, like distribution)",
    )
    .action(async (refText: string, options: { dummy?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = cliReference(refText);
      const { UsageError, TagDeletionRefusedError } = await import("../../core/errors.js");
      if (ref.tag === undefined || ref.digest) throw new UsageError("untag needs REPO:TAG");
      const { untag } = await import("../../registry/untag.js");
      await withRepository(globals, ref, async (repo) => {
        const result = await untag(repo, ref.tag!, { placeholder: options.dummy ?? false }).catch(
          (error: unknown) => {
            if (!(error instanceof TagDeletionRefusedError)) throw error;
            throw new TagDeletionRefusedError(error.registry, error.repository, error.tag, error.answer, {
              hint: `\`regkit untag --dummy ${refText}\` points the tag at a placeholder manifest and deletes that instead`,
              cause: error,
            });
          },
        );
        const { tag, ...how } = result;
        if (globals.json) writeJson(io, { untagged: tag, ...how });
        else if (result.method === "placeholder")
          writeLine(
            io,
            `untagged ${tag} (was ${result.previous}; placeholder ${result.placeholder} deleted)`,
          );
        else writeLine(io, `untagged ${tag}`);
      });
    });

  program
    .command("referrers")
    .description("list what refers to REF: signatures, SBOMs, attestations")
    .argument("<ref>", "image reference")
    .option("--artifact-type <type>", "only referrers of this artifact type")
    .action(async (refText: string, options: { artifactType?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = cliReference(refText);
      await withRepository(globals, ref, async (repo) => {
        const digest = await pinnedDigest(repo, ref);
        const found = await repo.referrers.list(
          digest,
          options.artifactType ? { artifactType: options.artifactType } : {},
        );
        if (globals.json) {
          writeJson(io, { subject: digest, source: found.source, referrers: found.referrers });
          return;
        }
        for (const r of found.referrers)
          writeLine(io, `${r.digest} ${r.artifactType ?? r.mediaType} ${r.size}`);
      });
    });
}
