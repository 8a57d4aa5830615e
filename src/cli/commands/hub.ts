import { type Command, Option } from "commander";
import { UnsupportedError } from "../../core/errors.js";
import { providerOf } from "../../core/providers.js";
import type { DockerHub, HubTag } from "../../providers/dockerhub/index.js";
import type { VulnerabilityReport } from "../../providers/vulnerabilities.js";
import {
  type CliIo,
  cliReference,
  jsonOutput,
  withProviderClient,
  writeJson,
  writeLine,
} from "../context.js";
import { formatBytes, isoSeconds } from "../format.js";
import { configOption, parsePositive } from "../options.js";
import { printListing } from "./list.js";

/** Runs `fn` with a Docker Hub client (environment > config file > defaults), closed afterwards. */
function withDockerHub<T>(command: Command, fn: (hub: DockerHub) => Promise<T>): Promise<T> {
  return withProviderClient(
    command,
    async (settings) => (await import("../../providers/dockerhub/index.js")).DockerHub.create(settings),
    fn,
  );
}

function platforms(tag: HubTag): string {
  return tag.images.map((i) => [i.os, i.architecture, i.variant].filter(Boolean).join("/")).join(",") || "-";
}

/** `alpine` is `library/alpine`, `docker.io/x/y` is `x/y`: the Hub API's NAMESPACE/NAME. */
function hubRepository(text: string): string {
  const ref = cliReference(text);
  if (providerOf(ref.registry) !== "dockerhub")
    throw new UnsupportedError(`${text} is not a Docker Hub repository`, { provider: "dockerhub" });
  return ref.repository;
}

export function registerHub(program: Command, io: CliIo): void {
  const hub = program
    .command("hub")
    .description("Docker Hub's own API: repositories, search, tags with their platforms")
    .addOption(configOption());

  hub
    .command("repos")
    .description("list the repositories of a user or organisation (private ones when you own them)")
    .argument("<namespace>", "Docker ID or organisation")
    .option("--name <text>", "only names containing TEXT")
    .addOption(
      new Option("--ordering <field>", "sort order").choices([
        "name",
        "-name",
        "last_updated",
        "-last_updated",
        "pull_count",
        "-pull_count",
      ]),
    )
    .option("--page-size <n>", "repositories per request (max 100)", parsePositive)
    .action(
      async (
        namespace: string,
        options: { name?: string; ordering?: "name"; pageSize?: number },
        command: Command,
      ) => {
        await withDockerHub(command, (client) =>
          printListing(
            io,
            jsonOutput(command),
            client.api.repositories(namespace, {
              ...(options.name ? { name: options.name } : {}),
              ...(options.ordering ? { ordering: options.ordering } : {}),
              ...(options.pageSize ? { pageSize: options.pageSize } : {}),
            }),
            (r) =>
              `${r.repository}\t${r.isPrivate ? "private" : "public"}\t${r.pullCount} pulls\t${r.starCount} stars\t${isoSeconds(r.lastUpdated)}`,
          ),
        );
      },
    );

  const repo = hub.command("repo").description("one repository");
  repo
    .command("get")
    .description("details of a repository")
    .argument("<repo>", "NAMESPACE/NAME (or an official image name such as alpine)")
    .action(async (text: string, _options: unknown, command: Command) => {
      await withDockerHub(command, async (client) => {
        const r = await client.api.repository(hubRepository(text));
        if (jsonOutput(command)) return writeJson(io, r);
        writeLine(io, `repository:  ${r.repository}`);
        writeLine(io, `visibility:  ${r.isPrivate ? "private" : "public"}`);
        writeLine(io, `description: ${r.description || "-"}`);
        writeLine(io, `pulls:       ${r.pullCount}`);
        writeLine(io, `stars:       ${r.starCount}`);
        writeLine(io, `updated:     ${isoSeconds(r.lastUpdated)}`);
        writeLine(io, `registered:  ${isoSeconds(r.dateRegistered)}`);
        if (r.permissions)
          writeLine(
            io,
            `you may:     ${
              Object.entries(r.permissions)
                .filter(([, allowed]) => allowed)
                .map(([name]) => name)
                .join(", ") || "nothing"
            }`,
          );
      });
    });
  repo
    .command("create")
    .description("create a repository, public or private (needs credentials)")
    .argument("<repo>", "NAMESPACE/NAME")
    .option("--private", "only you (and your organisation) can see and pull it")
    .option("--description <text>", "short description (at most 100 characters)")
    .action(async (text: string, options: { private?: boolean; description?: string }, command: Command) => {
      const name = hubRepository(text);
      const created = await withDockerHub(command, (client) =>
        client.api.createRepository(name, {
          isPrivate: options.private ?? false,
          ...(options.description !== undefined ? { description: options.description } : {}),
        }),
      );
      if (jsonOutput(command)) writeJson(io, created);
      else writeLine(io, `created ${created.repository} (${created.isPrivate ? "private" : "public"})`);
    });
  repo
    .command("delete")
    .description("delete a repository and every image in it (needs credentials)")
    .argument("<repo>", "NAMESPACE/NAME")
    .action(async (text: string, _options: unknown, command: Command) => {
      const name = hubRepository(text);
      await withDockerHub(command, (client) => client.api.deleteRepository(name));
      if (jsonOutput(command)) writeJson(io, { deleted: name });
      else writeLine(io, `deleted ${name}`);
    });

  hub
    .command("search")
    .description("search public repositories")
    .argument("<query>", "text to look for")
    .option("--limit <n>", "stop after N results", parsePositive, 25)
    .action(async (query: string, options: { limit: number }, command: Command) => {
      await withDockerHub(command, (client) =>
        printListing(
          io,
          jsonOutput(command),
          take(client.api.search(query, { pageSize: Math.min(options.limit, 100) }), options.limit),
          (r) =>
            `${r.repository}${r.official ? " [official]" : ""}\t${r.pullCount} pulls\t${r.starCount} stars\t${r.description}`,
        ),
      );
    });

  hub
    .command("tags")
    .description("tags of a repository with size, last update, digest and platforms, newest first")
    .argument("<repo>", "NAMESPACE/NAME (or an official image name such as alpine)")
    .option("--page-size <n>", "tags per request (max 100)", parsePositive)
    .action(async (text: string, options: { pageSize?: number }, command: Command) => {
      const name = hubRepository(text);
      await withDockerHub(command, (client) =>
        printListing(
          io,
          jsonOutput(command),
          client.api.tags(name, options.pageSize ? { pageSize: options.pageSize } : {}),
          (t) =>
            `${t.name}\t${t.digest ?? "-"}\t${formatBytes(t.size)}\t${isoSeconds(t.lastUpdated)}\t${platforms(t)}`,
        ),
      );
    });

  hub
    .command("untag")
    .description("delete one tag through the Hub API (needs credentials)")
    .argument("<ref>", "NAMESPACE/NAME:TAG")
    .action(async (text: string, _options: unknown, command: Command) => {
      const ref = cliReference(text);
      if (!ref.tag || ref.digest) throw new UnsupportedError("hub untag needs NAME:TAG");
      const name = hubRepository(text);
      await withDockerHub(command, (client) => client.api.deleteTag(name, ref.tag!));
      if (jsonOutput(command)) writeJson(io, { untagged: `${name}:${ref.tag}` });
      else writeLine(io, `untagged ${name}:${ref.tag}`);
    });
}

async function* take<T>(items: AsyncIterable<T>, limit: number): AsyncIterable<T> {
  let n = 0;
  for await (const item of items) {
    if (n++ >= limit) return;
    yield item;
  }
}

export function registerRateLimit(program: Command, io: CliIo): void {
  program
    .command("ratelimit")
    .description("Docker Hub pull limit, remaining, window and source (a HEAD: spends no pull)")
    .argument("[ref]", "image to ask about (default: Docker's ratelimitpreview/test)")
    .addOption(configOption())
    .action(async (text: string | undefined, _options: unknown, command: Command) => {
      if (text) hubRepository(text);
      const status = await withDockerHub(command, (client) => client.pullLimit(text));
      if (jsonOutput(command)) return writeJson(io, status);
      const who = status.authenticated ? "authenticated" : "anonymous";
      if (!status.limited) {
        writeLine(io, `no pull limit reported (${who}): a paid plan or an unlimited image`);
        return;
      }
      const hours = status.windowSeconds ? ` per ${status.windowSeconds / 3600} h` : "";
      writeLine(io, `limit:     ${status.limit}${hours}`);
      writeLine(io, `remaining: ${status.remaining}`);
      writeLine(io, `window:    ${status.windowSeconds ?? "-"} s`);
      writeLine(io, `source:    ${status.source ?? "-"}`);
      writeLine(io, `caller:    ${who}`);
    });
}

export function registerVulns(program: Command, io: CliIo): void {
  program
    .command("vulns")
    .description("vulnerability summary and list from the registry's scanner")
    .argument("<ref>", "image, e.g. docker.io/library/alpine:3.20")
    .option("--platform <os/arch[/variant]>", "platform of a multi-platform image (default linux/amd64)")
    .addOption(configOption())
    .action(async (text: string, options: { platform?: string }, command: Command) => {
      const ref = cliReference(text);
      if (providerOf(ref.registry) === "gar")
        return (await import("./gar.js")).garVulnerabilities(text, command, io, printReport);
      if (providerOf(ref.registry) === "ghcr") {
        const { withGhcr } = await import("./ghcr.js");
        const report = await withGhcr(command, (client) =>
          client.vulnerabilities(text, options.platform ? { platform: options.platform } : {}),
        );
        if (jsonOutput(command)) return writeJson(io, report);
        return printReport(io, report);
      }
      if (providerOf(ref.registry) !== "dockerhub")
        throw new UnsupportedError(
          `no vulnerability source for ${ref.registry} (supported: docker.io, ghcr.io, *-docker.pkg.dev)`,
        );
      const report = await withDockerHub(command, (client) =>
        client.vulnerabilities(text, options.platform ? { platform: options.platform } : {}),
      );
      if (jsonOutput(command)) return writeJson(io, report);
      printReport(io, report);
    });
}

function printReport(io: CliIo, report: VulnerabilityReport & { scanner?: string }): void {
  writeLine(io, `${report.image.repository}@${report.image.digest}`);
  const status: Record<VulnerabilityReport["status"], string> = {
    scanned: "scanned",
    pending: "scan in progress",
    // GHCR has no scanner of its own: its reports come from scan results attached to the image.
    "not-scanned": report.provider === "ghcr" ? "no scan data attached" : "not scanned",
    failed: "scan failed",
    "no-access": "no access to scan results (log in as someone who may read the repository)",
    unknown: "scan status unknown",
  };
  writeLine(
    io,
    `status: ${status[report.status]}${report.lastScanned ? ` (${isoSeconds(report.lastScanned)})` : ""}`,
  );
  if (report.scanner) writeLine(io, `scanner: ${report.scanner}`);
  if (report.status !== "scanned") return;
  const { critical, high, medium, low, unknown } = report.counts;
  writeLine(io, `critical ${critical}  high ${high}  medium ${medium}  low ${low}  unknown ${unknown}`);
  const fixable = report.vulnerabilities.filter((v) => v.fixedVersion).length;
  writeLine(io, `fixable ${fixable} of ${report.vulnerabilities.length}`);
  for (const v of report.vulnerabilities) {
    const fix = v.fixedVersion ? ` → ${v.fixedVersion}` : "";
    writeLine(
      io,
      `${v.severity.padEnd(8)} ${v.id}\t${v.package ?? "-"} ${v.version ?? ""}${fix}\t${v.url ?? ""}`,
    );
  }
}
