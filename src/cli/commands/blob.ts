import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import type { Digest } from "../../core/digest.js";
import { UsageError } from "../../core/errors.js";
import type { Reference } from "../../core/reference.js";
import {
  type CliIo,
  cliReference,
  cliRepository,
  type GlobalOptions,
  withRegistry,
  withRepository,
  writeJson,
  writeLine,
} from "../context.js";
import { parsePositive } from "../options.js";
import { boundTransferMemory } from "../transferMemory.js";

function blobReference(text: string): Reference & { digest: Digest } {
  const ref = cliReference(text, { defaultTag: false });
  if (!ref.digest)
    throw new UsageError(`blob reference needs a digest: REPO@sha256:…, got ${JSON.stringify(text)}`);
  return ref as Reference & { digest: Digest };
}

export function registerBlob(program: Command, io: CliIo): void {
  const blob = program.command("blob").description("raw, verified blob operations");

  blob
    .command("get")
    .description("write the blob REPO@DIGEST to stdout (or to a file), verified while streaming")
    .argument("<ref>", "REPO@DIGEST")
    .option("-o, --output <file>", "write to FILE; it appears only once the digest is verified")
    .action(async (refText: string, options: { output?: string }, command: Command) => {
      boundTransferMemory();
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = blobReference(refText);
      if (options.output) {
        // Refused before the download starts, naming the directory (not the temporary file's name).
        const parent = await stat(dirname(options.output)).catch(() => undefined);
        if (!parent?.isDirectory())
          throw new UsageError(
            `cannot write ${options.output}: directory ${dirname(options.output)} does not exist`,
          );
      }
      await withRepository(globals, ref, async (repo) => {
        const fetched = await repo.blobs.fetch(ref.digest);
        if (!options.output) {
          await pipeline(fetched.stream, io.stdout, { end: false });
          return;
        }
        // Temp file + rename: an interrupted or corrupt download never leaves a file under the final name.
        const temp = join(
          dirname(options.output),
          `.${basename(options.output)}.${randomBytes(6).toString("hex")}.part`,
        );
        try {
          await pipeline(fetched.stream, createWriteStream(temp, { flags: "wx" }));
          await rename(temp, options.output);
        } catch (error) {
          await rm(temp, { force: true });
          throw error;
        }
      });
    });

  blob
    .command("head")
    .description("print the digest and size of REPO@DIGEST without downloading it")
    .argument("<ref>", "REPO@DIGEST")
    .action(async (refText: string, _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = blobReference(refText);
      await withRepository(globals, ref, async (repo) => {
        const descriptor = await repo.blobs.head(ref.digest);
        if (globals.json) writeJson(io, { digest: descriptor.digest, size: descriptor.size });
        else writeLine(io, `${descriptor.digest} ${descriptor.size}`);
      });
    });

  blob
    .command("put")
    .description("upload stdin as a blob of REPO, streamed; prints its digest")
    .argument("<repo>", "repository")
    .option("--chunk-size <bytes>", "upload in PATCH chunks of this size (default 8 MiB)", parsePositive)
    .action(async (repoText: string, options: { chunkSize?: number }, command: Command) => {
      boundTransferMemory();
      const globals = command.optsWithGlobals<GlobalOptions>();
      const { registry: host, repository } = cliRepository(repoText);
      await withRegistry(globals, async (registry) => {
        const { Readable } = await import("node:stream");
        const source = io.stdin instanceof Readable ? io.stdin : Readable.from(io.stdin);
        const result = await registry
          .repository(host, repository)
          .uploads.upload(source, {}, options.chunkSize ? { chunkSize: options.chunkSize } : {});
        if (globals.json) writeJson(io, { digest: result.descriptor.digest, size: result.descriptor.size });
        else writeLine(io, result.descriptor.digest);
      });
    });

  blob
    .command("delete")
    .description("delete the blob REPO@DIGEST (where the registry allows it)")
    .argument("<ref>", "REPO@DIGEST")
    .action(async (refText: string, _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ref = blobReference(refText);
      await withRepository(globals, ref, async (repo) => {
        await repo.blobs.delete(ref.digest);
        if (globals.json) writeJson(io, { deleted: ref.digest });
        else writeLine(io, `deleted ${ref.digest}`);
      });
    });
}
