import { type Command, InvalidArgumentError, Option } from "commander";
import { providerOf } from "../../core/providers.js";
import type { Registry } from "../../registry/registry.js";
import type { Store } from "../../store/store.js";
import { type CliIo, type GlobalOptions, withRegistry, writeJson, writeLine } from "../context.js";
import { PROGRESS_MODES, type ProgressMode, progressReporter } from "../progress.js";
import { keepYoungGenerationSmall } from "../transferMemory.js";

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
  keepYoungGenerationSmall();
  // Loaded on use: the copy engine and the stores stay out of other commands' start-up.
  const [{ copyImage }, { parseStoreReference }] = await Promise.all([
    import("../../copy/jobs.js"),
    import("../../store/location.js"),
  ]);
  await withRegistry(globals, async (registry: Registry) => {
    const source = parseStoreReference(from, registry);
    const destination = parseStoreReference(to, registry);
    const progress = progressReporter(io, flags.progress ?? "auto");
    // Ctrl-C: no half-written files left in a layout, and the conventional exit status.
    const interrupted = async () => {
      const { OciLayoutStore } = await import("../../store/ociLayoutStore.js");
      OciLayoutStore.removeTemporaryFiles();
      io.stderr.write("\nregkit: interrupted; temporary files removed\n");
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
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
    }).finally(() => {
      progress.done();
      process.off("SIGINT", interrupted);
      process.off("SIGTERM", interrupted);
    });
    const seconds = (performance.now() - started) / 1000;
    const { tag } = result;
    if (globals.json) {
      const { source: from, destination: to, tag: _tag, ...counts } = result;
      writeJson(io, { source: from, destination: to, tag: tag ?? null, ...counts, seconds });
      return;
    }
    const { copied, mounted, skipped } = result.blobs;
    writeLine(
      io,
      `${source.store.name} → ${destination.store.name}${tag ? `:${tag}` : ""} ${result.descriptor.digest}: ` +
        `${copied} blobs copied (${(result.bytes / 1e6).toFixed(1)} MB), ${mounted} mounted, ${skipped} already there, ` +
        `${result.manifests} manifests, ${seconds.toFixed(2)} s`,
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
      .description("copy an image between registries and OCI layouts (oci:DIR[:TAG]), skipping what is there")
      .argument("<src>", "source: registry reference or oci:DIR[:TAG]")
      .argument("<dst>", "destination: registry reference or oci:DIR[:TAG]"),
  ).action((src: string, dst: string, flags: CopyFlags, command: Command) =>
    runCopy(io, command.optsWithGlobals<GlobalOptions>(), src, dst, flags),
  );

  withCopyFlags(
    program
      .command("pull")
      .description("copy an image from a registry into an OCI layout directory")
      .argument("<ref>", "registry reference")
      .argument("<dir>", "OCI layout directory (created if needed)"),
  ).action((ref: string, dir: string, flags: CopyFlags, command: Command) =>
    runCopy(io, command.optsWithGlobals<GlobalOptions>(), ref, `oci:${dir}`, flags),
  );

  withCopyFlags(
    program
      .command("push")
      .description("copy an image from an OCI layout directory (oci:DIR[:TAG] or DIR) to a registry")
      .argument("<dir>", "OCI layout directory, optionally oci:DIR:TAG")
      .argument("<ref>", "registry reference"),
  ).action((dir: string, ref: string, flags: CopyFlags, command: Command) =>
    runCopy(
      io,
      command.optsWithGlobals<GlobalOptions>(),
      dir.startsWith("oci:") ? dir : `oci:${dir}`,
      ref,
      flags,
    ),
  );
}
