import { type Command, InvalidArgumentError, Option } from "commander";
import { providerOf } from "../../core/providers.js";
import type { Registry } from "../../registry/registry.js";
import type { Store } from "../../store/store.js";
import { type CliIo, type GlobalOptions, withRegistry, writeJson, writeLine } from "../context.js";
import { count, formatBytes } from "../format.js";
import { PROGRESS_MODES, type ProgressMode, progressReporter } from "../progress.js";
import { boundTransferMemory } from "../transferMemory.js";

interface CopyFlags {
  allPlatforms?: boolean;
  platform?: string;
  referrers?: boolean;
  concurrency?: number;
  progress?: ProgressMode;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError("must be an integer from 1 to 64");
  return n;
}

async function runCopy(
  io: CliIo,
  globals: GlobalOptions,
  from: string,
  to: string,
  flags: CopyFlags,
): Promise<void> {
  boundTransferMemory();
  // Loaded on use: the copy engine and the stores stay out of other commands' start-up.
  const [{ copyImage }, { parseStoreReference }] = await Promise.all([
    import("../../copy/jobs.js"),
    import("../../store/location.js"),
  ]);
  await withRegistry(globals, async (registry: Registry) => {
    const source = parseStoreReference(from, registry);
    const destination = parseStoreReference(to, registry);
    const progress = progressReporter(io, flags.progress ?? "auto");
    // Ctrl-C: no half-written files left by any store, and the conventional exit status.
    const { removeTemporaryFiles } = await import("../../store/temporaryFiles.js");
    const interrupted = () => {
      progress.done();
      const removed = removeTemporaryFiles();
      io.stderr.write(
        `\nregkit: interrupted${removed > 0 ? `; ${count(removed, "temporary file")} removed` : ""}\n`,
      );
      process.exit(130);
    };
    process.once("SIGINT", interrupted);
    process.once("SIGTERM", interrupted);
    const planner = await dockerHubPlanner(registry, source.store);
    const started = performance.now();
    const result = await copyImage(source, destination, {
      registry,
      ...(flags.platform ? { platform: flags.platform } : {}),
      ...(flags.allPlatforms ? { allPlatforms: true } : {}),
      ...(flags.referrers ? { referrers: true } : {}),
      ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
      ...(planner ? { beforeManifests: planner } : {}),
      ...(destination.digest ? { digest: destination.digest } : {}),
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
    }).finally(() => {
      progress.done();
      process.off("SIGINT", interrupted);
      process.off("SIGTERM", interrupted);
    });
    const durationMs = Math.round(performance.now() - started);
    const { tag } = result;
    if (globals.json) {
      const { source: from, destination: to, tag: _tag, ...counts } = result;
      writeJson(io, { source: from, destination: to, tag: tag ?? null, ...counts, durationMs });
      return;
    }
    const { copied, mounted, skipped } = result.blobs;
    writeLine(
      io,
      `${source.store.name} → ${destination.store.name}${tag ? `:${tag}` : ""} ${result.descriptor.digest}: ` +
        `${count(copied, "blob")} copied (${formatBytes(result.bytes)}), ${mounted} mounted, ${skipped} already there, ` +
        `${count(result.manifests, "manifest")}, ${(durationMs / 1000).toFixed(2)} s`,
    );
  });
}

/** From Docker Hub, a multi-platform copy plans its pulls around the budget before the first one. */
async function dockerHubPlanner(registry: Registry, source: Store) {
  const { RemoteStore } = await import("../../store/remoteStore.js");
  if (!(source instanceof RemoteStore) || providerOf(source.repository.registry) !== "dockerhub")
    return undefined;
  const [{ pullPlanner }, { defaultCredentials }] = await Promise.all([
    import("../../providers/dockerhub/pullLimit.js"),
    import("../../auth/index.js"),
  ]);
  const authenticated = (await defaultCredentials().resolve({ registry: "docker.io" })) !== undefined;
  return pullPlanner(registry, { authenticated });
}

export function registerCopy(program: Command, io: CliIo): void {
  const withCopyFlags = (command: Command) =>
    command
      .option("--all-platforms", "copy every platform of an index (the default without --platform)")
      .option("--platform <os/arch[/variant]>", "copy only this platform's image out of an index")
      .option("--referrers", "also copy signatures, SBOMs and attestations that refer to the image")
      .option("--concurrency <n>", "blob transfers at once (default 4)", positive)
      .addOption(
        new Option(
          "--progress <mode>",
          "auto (a status line on a terminal), bar, plain (one line per blob, for CI logs) or none",
        )
          .choices(PROGRESS_MODES)
          .default("auto"),
      );

  withCopyFlags(
    program
      .command("copy")
      .description("copy an image between registries, OCI layouts and archives, skipping what is there")
      .argument("<src>", "source location (below)")
      .argument("<dst>", "destination location (below)")
      .addHelpText("after", LOCATIONS_HELP),
  ).action((src: string, dst: string, flags: CopyFlags, command: Command) =>
    runCopy(io, command.optsWithGlobals<GlobalOptions>(), src, dst, flags),
  );

  withCopyFlags(
    program
      .command("pull")
      .description("copy an image from a registry into an OCI layout directory (or any location)")
      .argument("<ref>", "registry reference")
      .argument("<dir>", "OCI layout directory (created if needed), or a location with a prefix (below)")
      .addHelpText("after", LOCATIONS_HELP),
  ).action((ref: string, dir: string, flags: CopyFlags, command: Command) =>
    runCopy(io, command.optsWithGlobals<GlobalOptions>(), ref, hasPrefix(dir) ? dir : `oci:${dir}`, flags),
  );

  withCopyFlags(
    program
      .command("push")
      .description("copy an image from an OCI layout directory or an image tarball to a registry")
      .argument(
        "<src>",
        "DIR[:TAG] (an OCI layout), FILE (a docker save or OCI archive, told apart by content), or a location",
      )
      .argument("<ref>", "registry reference")
      .addHelpText("after", LOCATIONS_HELP),
  ).action(async (src: string, ref: string, flags: CopyFlags, command: Command) => {
    const { localSource } = await import("../../store/location.js");
    await runCopy(io, command.optsWithGlobals<GlobalOptions>(), await localSource(src), ref, flags);
  });
}

const hasPrefix = (text: string) => /^(oci|oci-archive|docker-archive|docker):/.test(text);

const LOCATIONS_HELP = `
Locations:
  REGISTRY/REPO:TAG, REGISTRY/REPO@DIGEST   a registry (docker:// in front is accepted, as skopeo writes it)
  oci:DIR[:TAG|@DIGEST]                      an OCI image layout directory (an untagged image is listed without a name)
  oci-archive:FILE[:TAG]                     a tar of an OCI image layout, as skopeo reads and writes it
  docker-archive:FILE[:NAME:TAG]             a docker save tarball for docker load; one image, so --platform for an index
                                             (without NAME it takes the source's repository name)

A destination named by digest (REPO@sha256:…) gets no tag, and must be the digest of what is copied.

Examples:
  regkit copy 127.0.0.1:5000/demo/hello:v1 oci:./hello:v1
  regkit copy --platform linux/amd64 127.0.0.1:5000/demo/hello:v1 docker-archive:app.tar:example/app:v1
  regkit push ./app.tar 127.0.0.1:5000/demo/app:v1
`;
