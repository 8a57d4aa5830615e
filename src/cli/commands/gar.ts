import { type Command, Option } from "commander";
import type { ArtifactRegistry, CleanupDecision, GarRepository } from "../../providers/gar/index.js";
import type { VulnerabilityReport } from "../../providers/vulnerabilities.js";
import {
  type CliIo,
  type GlobalOptions,
  jsonOutput,
  withProviderClient,
  writeJson,
  writeLine,
} from "../context.js";
import { configOption } from "../options.js";
import { printListing } from "./list.js";

interface GarOptions {
  config?: string;
  project?: string;
  location?: string;
}

/** Runs `fn` with an Artifact Registry client (environment > config file > defaults), closed afterwards. */
function withGar<T>(
  command: Command,
  fn: (gar: ArtifactRegistry, globals: GlobalOptions & GarOptions) => Promise<T>,
): Promise<T> {
  const globals = command.optsWithGlobals<GlobalOptions & GarOptions>();
  return withProviderClient(
    command,
    async (settings) => (await import("../../providers/gar/index.js")).ArtifactRegistry.create(settings),
    (gar) => fn(gar, globals),
  );
}

async function repositoryArgument(text: string, globals: GarOptions): Promise<GarRepository> {
  const { parseGarRepository } = await import("../../providers/gar/index.js");
  return parseGarRepository(text, globals);
}

const REPO_HELP = "LOCATION-docker.pkg.dev/PROJECT/REPO, or REPO with --project and --location";
const FORMATS = ["docker", "maven", "npm", "python", "go", "apt", "yum"] as const;
const last = (name: string) => decodeURIComponent(name.slice(name.lastIndexOf("/") + 1));

export function registerGar(program: Command, io: CliIo): void {
  const gar = program
    .command("gar")
    .description(
      "Google Artifact Registry's own API: repositories, packages, versions, tags, files, cleanup dry runs",
    )
    .addOption(configOption())
    .option("--project <id>", "Google Cloud project (with a bare REPO id)")
    .option(
      "--location <location>",
      "Artifact Registry location, e.g. us-central1 or us (with a bare REPO id)",
    );

  gar
    .command("repos")
    .description("repositories of a project in one location")
    .addOption(new Option("--format <format>", "only repositories of this format").choices(FORMATS))
    .action(async (options: { format?: (typeof FORMATS)[number] }, command: Command) => {
      await withGar(command, async (client, globals) => {
        const { checkLocation } = await import("../../providers/gar/index.js");
        if (!globals.project || !globals.location) {
          const { UsageError } = await import("../../core/errors.js");
          throw new UsageError("gar repos needs --project and --location");
        }
        const location = checkLocation(globals.location);
        await printListing(
          io,
          jsonOutput(command),
          client.api.repositories(
            globals.project,
            location,
            options.format ? { format: options.format } : {},
          ),
          (r) => `${last(r.name)}\t${r.format ?? "-"}\t${r.mode ?? "-"}\t${r.description ?? ""}`,
        );
      });
    });

  gar
    .command("repo")
    .description("one repository")
    .command("get")
    .description("format, mode, size and cleanup policies of a repository")
    .argument("<repo>", REPO_HELP)
    .action(async (text: string, _options: unknown, command: Command) => {
      await withGar(command, async (client, globals) => {
        const r = await client.api.repository(await repositoryArgument(text, globals));
        if (jsonOutput(command)) return writeJson(io, r);
        writeLine(io, `name:        ${r.name}`);
        writeLine(io, `format:      ${r.format ?? "-"}`);
        writeLine(io, `mode:        ${r.mode ?? "-"}`);
        writeLine(io, `description: ${r.description || "-"}`);
        writeLine(io, `size:        ${r.sizeBytes ?? 0} bytes`);
        writeLine(io, `created:     ${r.createTime ?? "-"}`);
        for (const [id, p] of Object.entries(r.cleanupPolicies ?? {}))
          writeLine(
            io,
            `policy:      ${id} ${p.action ?? "?"} ${JSON.stringify(p.condition ?? p.mostRecentVersions ?? {})}`,
          );
      });
    });

  /** `gar NAME REPO`: what `list` yields for the repository, one line each (an array with --json). */
  const repoListing = <T>(
    name: string,
    description: string,
    list: (client: ArtifactRegistry, repo: GarRepository) => AsyncIterable<T>,
    line: (item: T) => string,
  ) =>
    gar
      .command(name)
      .description(description)
      .argument("<repo>", REPO_HELP)
      .action(async (text: string, _options: unknown, command: Command) => {
        await withGar(command, async (client, globals) =>
          printListing(io, jsonOutput(command), list(client, await repositoryArgument(text, globals)), line),
        );
      });

  repoListing(
    "packages",
    "packages of a repository (images for Docker)",
    (client, repo) => client.api.packages(repo),
    (p) => `${last(p.name)}\t${p.updateTime ?? "-"}`,
  );

  gar
    .command("versions")
    .description("versions of an image with their tags")
    .argument("<image>", "LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE")
    .action(async (text: string, _options: unknown, command: Command) => {
      await withGar(command, async (client) => {
        const { parseGarImage } = await import("../../providers/gar/index.js");
        await printListing(
          io,
          jsonOutput(command),
          client.api.versions(parseGarImage(text)),
          (v) =>
            `${last(v.name)}\t${v.createTime ?? "-"}\t${(v.relatedTags ?? []).map((t) => last(t.name)).join(",") || "-"}`,
        );
      });
    });

  gar
    .command("version")
    .description("one version")
    .command("delete")
    .description("delete a version; a tagged one only with --force (its tags go with it)")
    .argument("<image>", "LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE@DIGEST")
    .option("--force", "also delete a tagged version and its tags")
    .action(async (text: string, options: { force?: boolean }, command: Command) => {
      await withGar(command, async (client) => {
        const { parseGarImage } = await import("../../providers/gar/index.js");
        const image = parseGarImage(text);
        if (!image.digest) {
          const { UsageError } = await import("../../core/errors.js");
          throw new UsageError(`${text}: name the version by digest (IMAGE@sha256:…)`);
        }
        await client.api.deleteVersion(image, image.digest, { force: options.force ?? false });
        if (jsonOutput(command)) return writeJson(io, { deleted: image.digest });
        writeLine(io, `deleted ${image.digest}`);
      });
    });

  gar
    .command("tags")
    .description("tags of an image and the versions they point to")
    .argument("<image>", "LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE")
    .action(async (text: string, _options: unknown, command: Command) => {
      await withGar(command, async (client) => {
        const { parseGarImage } = await import("../../providers/gar/index.js");
        await printListing(
          io,
          jsonOutput(command),
          client.api.tags(parseGarImage(text)),
          (t) => `${last(t.name)}\t${t.version ? last(t.version) : "-"}`,
        );
      });
    });

  const tag = gar.command("tag").description("create or delete a tag through the REST API");
  tag
    .command("add")
    .description("point TAG at the version IMAGE@DIGEST names (or the one another tag names)")
    .argument(
      "<image>",
      "LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG@DIGEST, or IMAGE:TAG with --version DIGEST",
    )
    .option("--version <digest>", "the version to tag")
    .action(async (text: string, options: { version?: string }, command: Command) => {
      await withGar(command, async (client) => {
        const { parseGarImage } = await import("../../providers/gar/index.js");
        const image = parseGarImage(text);
        const version = options.version ?? image.digest;
        if (!image.tag || !version) {
          const { UsageError } = await import("../../core/errors.js");
          throw new UsageError(`${text}: give IMAGE:TAG@DIGEST or IMAGE:TAG --version DIGEST`);
        }
        const created = await client.api.createTag(image, image.tag, version);
        if (jsonOutput(command)) return writeJson(io, created);
        writeLine(io, `${image.tag} → ${version}`);
      });
    });
  tag
    .command("delete")
    .description("delete a tag (the version stays)")
    .argument("<image>", "LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG")
    .action(async (text: string, _options: unknown, command: Command) => {
      await withGar(command, async (client) => {
        const { parseGarImage } = await import("../../providers/gar/index.js");
        const image = parseGarImage(text);
        if (!image.tag) {
          const { UsageError } = await import("../../core/errors.js");
          throw new UsageError(`${text}: name the tag (IMAGE:TAG)`);
        }
        await client.api.deleteTag(image, image.tag);
        if (jsonOutput(command)) return writeJson(io, { deleted: image.tag });
        writeLine(io, `deleted tag ${image.tag}`);
      });
    });

  repoListing(
    "files",
    "files of a repository (layers and manifests for Docker)",
    (client, repo) => client.api.files(repo),
    (f) => `${last(f.name)}\t${f.sizeBytes ?? "-"}`,
  );

  gar
    .command("cleanup-preview")
    .description(
      "what the repository's cleanup policies would delete and keep now (a dry run; nothing changes)",
    )
    .argument("<repo>", REPO_HELP)
    .action(async (text: string, _options: unknown, command: Command) => {
      await withGar(command, async (client, globals) => {
        const plan = await client.cleanupPreview(await repositoryArgument(text, globals));
        const entry = (d: CleanupDecision) => ({
          version: d.version,
          digest: d.digest ?? null,
          tags: d.tags,
          policy: d.policy,
        });
        if (jsonOutput(command))
          return writeJson(io, { delete: plan.delete.map(entry), keep: plan.keep.map(entry) });
        const line = (verb: string, d: CleanupDecision) =>
          writeLine(
            io,
            `${verb}\t${d.package}@${d.version}\t${d.tags.join(",") || "-"}\t${d.policy ?? "(no delete policy matches)"}`,
          );
        for (const d of plan.delete) line("delete", d);
        for (const d of plan.keep) line("keep", d);
        writeLine(io, `${plan.delete.length} to delete, ${plan.keep.length} to keep`);
      });
    });
}

/** `vulns` for an Artifact Registry image: the shared report plus Container Analysis' fixable counts. */
export async function garVulnerabilities(
  text: string,
  command: Command,
  io: CliIo,
  print: (io: CliIo, report: VulnerabilityReport) => void,
): Promise<void> {
  await withGar(command, async (client) => {
    const { parseGarImage, imageUrl } = await import("../../providers/gar/index.js");
    const report = await client.vulnerabilities(text);
    const image = parseGarImage(text);
    const summary =
      report.status === "scanned"
        ? await client.analysis.summary(
            image.project,
            `resourceUrl="${imageUrl(image, report.image.digest)}"`,
          )
        : undefined;
    if (jsonOutput(command)) return writeJson(io, { ...report, summary: summary?.counts });
    print(io, report);
    if (summary) {
      const parts = Object.entries(summary.counts)
        .filter(([, c]) => c.total > 0)
        .map(([s, c]) => `${s.toLowerCase()} ${c.fixable}/${c.total}`);
      writeLine(io, `fixable: ${parts.join("  ") || "none"}`);
    }
  });
}
