import { Argument, type Command, InvalidArgumentError, Option } from "commander";
import type { Digest } from "../../core/digest.js";
import { UsageError } from "../../core/errors.js";
import { referenceTarget } from "../../core/reference.js";
import type { CleanupPlan, Ghcr, PackageVersion, PlanEntry } from "../../providers/ghcr/index.js";
import { type CliIo, jsonOutput, withProviderClient, writeJson, writeLine } from "../context.js";
import { isoSeconds } from "../format.js";
import { collect, configOption, parseAge } from "../options.js";
import { printListing } from "./list.js";

/** Runs `fn` with a GHCR client (environment > config file > defaults), closed afterwards. */
export function withGhcr<T>(command: Command, fn: (client: Ghcr) => Promise<T>): Promise<T> {
  return withProviderClient(
    command,
    async (settings) => (await import("../../providers/ghcr/index.js")).Ghcr.create(settings),
    fn,
  );
}

async function packageArgument(text: string) {
  const { packageOf } = await import("../../providers/ghcr/index.js");
  return packageOf(text);
}

const versionLine = (v: PackageVersion) =>
  `${v.id}\t${v.digest}\t${v.tags.join(",") || "-"}\t${isoSeconds(v.createdAt)}`;
const versionJson = (v: PackageVersion) => ({
  id: v.id,
  digest: v.digest,
  tags: v.tags,
  created: v.createdAt.toISOString(),
  updated: v.updatedAt.toISOString(),
  ...(v.deletedAt ? { deleted: v.deletedAt.toISOString() } : {}),
});

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number ≥ 0");
  return Number(value);
}

export function registerGhcr(program: Command, io: CliIo): void {
  const ghcr = program
    .command("ghcr")
    .description("GitHub Container Registry: packages, versions, visibility, cleanup, tags, signatures")
    .addOption(configOption());

  ghcr
    .command("packages")
    .description("container packages of an organisation, a user, yourself or a repository")
    .addOption(new Option("--org <org>", "an organisation's packages").conflicts(["user", "mine", "repo"]))
    .addOption(new Option("--user <user>", "a user's packages").conflicts(["mine", "repo"]))
    .addOption(new Option("--mine", "the authenticated user's packages").conflicts(["repo"]))
    .option("--repo <owner/repo>", "packages connected to a repository")
    .addOption(
      new Option("--visibility <v>", "only this visibility").choices(["public", "private", "internal"]),
    )
    .action(
      async (
        options: { org?: string; user?: string; mine?: boolean; repo?: string; visibility?: "public" },
        command: Command,
      ) => {
        const scope = options.org
          ? { org: options.org }
          : options.user
            ? { user: options.user }
            : options.mine
              ? { mine: true as const }
              : options.repo
                ? { repository: options.repo }
                : undefined;
        if (!scope)
          throw new UsageError("name whose packages: --org ORG, --user USER, --mine or --repo OWNER/REPO");
        await withGhcr(command, (client) =>
          printListing(
            io,
            jsonOutput(command),
            client.api.packages(scope, options.visibility ? { visibility: options.visibility } : {}),
            (p) =>
              `ghcr.io/${p.owner}/${p.name}\t${p.visibility}\t${p.versionCount} versions\t${p.repository ?? "-"}\t${isoSeconds(p.updatedAt)}`,
          ),
        );
      },
    );

  ghcr
    .command("versions")
    .description("versions of a package: id, digest, tags, created (newest first)")
    .argument("<package>", "ghcr.io/OWNER/PACKAGE")
    .addOption(new Option("--tagged", "only tagged versions").conflicts("untagged"))
    .option("--untagged", "only untagged versions")
    .option("--tag <pattern>", "only versions with a tag matching a glob or /regex/")
    .option("--deleted", "deleted versions (restorable for 30 days)")
    .action(
      async (
        text: string,
        options: { tagged?: boolean; untagged?: boolean; tag?: string; deleted?: boolean },
        command: Command,
      ) => {
        const { owner, name } = await packageArgument(text);
        const { tagMatcher } = await import("../../providers/ghcr/index.js");
        const filter = {
          ...(options.tagged ? { tagged: true } : options.untagged ? { tagged: false } : {}),
          ...(options.tag ? { tag: tagMatcher(options.tag) } : {}),
          ...(options.deleted ? { state: "deleted" as const } : {}),
        };
        await withGhcr(command, (client) =>
          printListing(
            io,
            jsonOutput(command),
            client.api.versions(owner, name, filter),
            versionLine,
            versionJson,
          ),
        );
      },
    );

  const version = ghcr.command("version").description("one version of a package, by id, tag or digest");
  for (const [verb, description] of [
    ["get", "show a version"],
    ["delete", "delete a version (needs delete:packages)"],
    ["restore", "restore a deleted version (within 30 days)"],
  ] as const) {
    version
      .command(verb)
      .description(description)
      .argument("<package>", "ghcr.io/OWNER/PACKAGE")
      .argument("<version>", "version id, tag or sha256:… digest")
      .action(async (text: string, which: string, _options: unknown, command: Command) => {
        const { owner, name } = await packageArgument(text);
        const found = await withGhcr(command, async (client) => {
          const v = await client.api.findVersion(
            owner,
            name,
            which,
            verb === "restore" ? "deleted" : "active",
          );
          if (verb === "delete") await client.api.deleteVersion(owner, name, v.id);
          if (verb === "restore") await client.api.restoreVersion(owner, name, v.id);
          return v;
        });
        if (jsonOutput(command))
          return writeJson(io, { ...versionJson(found), ...(verb !== "get" ? { [`${verb}d`]: true } : {}) });
        if (verb === "get") writeLine(io, versionLine(found));
        else writeLine(io, `${verb === "delete" ? "deleted" : "restored"} ${found.id} ${found.digest}`);
      });
  }

  ghcr
    .command("visibility")
    .description("show a package's visibility; changing it is only possible on github.com")
    .argument("<package>", "ghcr.io/OWNER/PACKAGE")
    .addArgument(new Argument("[visibility]", "new visibility").choices(["public", "private", "internal"]))
    .action(async (text: string, wanted: "public" | undefined, _options: unknown, command: Command) => {
      const { owner, name } = await packageArgument(text);
      const visibility = await withGhcr(command, (client) =>
        wanted ? client.api.setVisibility(owner, name, wanted) : client.api.visibility(owner, name),
      );
      if (jsonOutput(command)) writeJson(io, { package: `ghcr.io/${owner}/${name}`, visibility });
      else writeLine(io, visibility);
    });

  ghcr
    .command("cleanup")
    .description("delete old versions by policy: a plan first (dry run), deletes only with --yes")
    .argument("<package>", "ghcr.io/OWNER/PACKAGE")
    .option("--keep-last <n>", "keep the newest N images", parseCount)
    .option(
      "--older-than <age>",
      "delete only versions older than AGE: a number and a unit (ms, s, m, h, d, w), e.g. 30d, 12h, 2w",
      parseAge,
    )
    .option("--untagged", "delete only untagged versions")
    .option(
      "--keep-tag <pattern>",
      "never delete versions with a tag matching (glob or /regex/; repeatable)",
      collect,
    )
    .addOption(new Option("--dry-run", "only print the plan (the default)").conflicts("yes"))
    .option("--yes", "delete what the plan says")
    .action(
      async (
        text: string,
        options: {
          keepLast?: number;
          olderThan?: number;
          untagged?: boolean;
          keepTag?: string[];
          yes?: boolean;
        },
        command: Command,
      ) => {
        await packageArgument(text);
        const { tagMatcher } = await import("../../providers/ghcr/index.js");
        const policy = {
          ...(options.keepLast !== undefined ? { keepLast: options.keepLast } : {}),
          ...(options.olderThan !== undefined ? { olderThan: new Date(Date.now() - options.olderThan) } : {}),
          ...(options.untagged ? { untagged: true } : {}),
          ...(options.keepTag ? { keepTags: options.keepTag.map(tagMatcher) } : {}),
        };
        await withGhcr(command, async (client) => {
          const plan = await client.planCleanup(text, policy);
          printPlan(io, plan, jsonOutput(command), !options.yes);
          if (!options.yes || plan.delete.length === 0) return;
          const done = await client.cleanup(text, plan, (entry, outcome) =>
            io.stderr.write(
              `regkit: ${outcome} ${entry.id} ${entry.digest}${entry.tags.length ? ` (${entry.tags.join(",")})` : ""}\n`,
            ),
          );
          io.stderr.write(
            `regkit: deleted ${done.deleted.length}, already gone ${done.alreadyGone.length}\n`,
          );
        });
      },
    );

  ghcr
    .command("tags")
    .description("tags of an image, optionally matching a glob or /regex/")
    .argument("<image>", "ghcr.io/OWNER/PACKAGE")
    .option("--filter <pattern>", "glob (v1.*) or /regex/")
    .action(async (text: string, options: { filter?: string }, command: Command) => {
      const { owner, name } = await packageArgument(text);
      const { matchingTags, tagMatcher } = await import("../../providers/ghcr/index.js");
      if (options.filter) tagMatcher(options.filter);
      await withGhcr(command, (client) =>
        printListing(
          io,
          jsonOutput(command),
          matchingTags(client.repository(`${owner}/${name}`), options.filter),
        ),
      );
    });

  ghcr
    .command("retag")
    .description("put the same manifest under another tag (exact bytes, digest verified)")
    .argument("<image>", "ghcr.io/OWNER/PACKAGE:TAG or @DIGEST")
    .argument("<tag>", "the new tag")
    .action(async (text: string, tag: string, _options: unknown, command: Command) => {
      const { owner, name, reference } = await packageArgument(text);
      const { retag } = await import("../../providers/ghcr/index.js");
      const result = await withGhcr(command, (client) =>
        retag(client.repository(`${owner}/${name}`), referenceTarget(reference), tag),
      );
      if (jsonOutput(command)) writeJson(io, result);
      else writeLine(io, `ghcr.io/${owner}/${name}:${tag} → ${result.digest}`);
    });

  ghcr
    .command("size")
    .description("image size from its manifests: config + layers, per platform")
    .argument("<image>", "ghcr.io/OWNER/PACKAGE:TAG")
    .action(async (text: string, _options: unknown, command: Command) => {
      const { owner, name, reference } = await packageArgument(text);
      const { imageSize } = await import("../../providers/ghcr/index.js");
      const size = await withGhcr(command, (client) =>
        imageSize(client.repository(`${owner}/${name}`), referenceTarget(reference)),
      );
      if (jsonOutput(command)) return writeJson(io, size);
      for (const p of size.platforms) writeLine(io, `${p.platform}\t${p.total}\t${p.digest}`);
      writeLine(io, `total\t${size.total}`);
    });

  ghcr
    .command("signatures")
    .description("signatures, SBOMs and attestations of an image (referrers and cosign tags)")
    .argument("<image>", "ghcr.io/OWNER/PACKAGE:TAG")
    .action(async (text: string, _options: unknown, command: Command) => {
      const { owner, name, reference } = await packageArgument(text);
      const { signingArtifacts } = await import("../../providers/ghcr/index.js");
      const found = await withGhcr(command, async (client) => {
        const repo = client.repository(`${owner}/${name}`);
        const digest = (reference.digest ??
          (await repo.manifests.head(referenceTarget(reference))).digest) as Digest;
        return signingArtifacts(repo, digest);
      });
      if (jsonOutput(command)) return writeJson(io, found);
      for (const a of found) writeLine(io, `${a.kind}\t${a.digest}\t${a.tag ?? a.artifactType ?? "-"}`);
    });

  ghcr
    .command("vulnerable")
    .description("versions whose attached scan results list vulnerabilities")
    .argument("<package>", "ghcr.io/OWNER/PACKAGE")
    .action(async (text: string, _options: unknown, command: Command) => {
      await packageArgument(text);
      await withGhcr(command, (client) =>
        printListing(
          io,
          jsonOutput(command),
          client.vulnerableVersions(text),
          ({ version, report }) => {
            const c = report.counts;
            return `${version.id}\t${version.digest}\t${version.tags.join(",") || "-"}\tcritical ${c.critical} high ${c.high} medium ${c.medium} low ${c.low}`;
          },
          ({ version, report }) => ({ ...versionJson(version), counts: report.counts }),
        ),
      );
    });
}

function printPlan(io: CliIo, plan: CleanupPlan, asJson: boolean | undefined, dryRun: boolean): void {
  const strip = (e: PlanEntry) => ({ id: e.id, digest: e.digest, tags: e.tags, reason: e.reason });
  if (asJson) {
    writeJson(io, { delete: plan.delete.map(strip), keep: plan.keep.map(strip) });
    return;
  }
  const line = (verb: string, e: PlanEntry) =>
    writeLine(io, `${verb}\t${e.id}\t${e.digest}\t${e.tags.join(",") || "-"}\t${e.reason}`);
  for (const e of plan.delete) line("delete", e);
  for (const e of plan.keep) line("keep", e);
  writeLine(
    io,
    `${plan.delete.length} to delete, ${plan.keep.length} to keep${dryRun ? " (dry run: add --yes to delete)" : ""}`,
  );
}
