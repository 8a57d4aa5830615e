/**
 * Whole commands as users meet them: `regkit`, skopeo and (with CRANE=path)
 * crane as child processes, start-up included, each copy into a destination
 * registry started fresh for that one run, skopeo's blob-info cache removed,
 * tools interleaved and their order rotated per round. Each sample carries
 * the child's wall time, own CPU, peak RSS and the requests both registries
 * logged for it.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { startDistribution } from "../test/support/distribution.js";
import { child, rotated, type Sample, skopeo } from "./measure.js";

export type Tool = "regkit" | "skopeo" | "crane";

export interface CommandSetup {
  /** The source registry (read only): bench/image, bench/index, bench/big at v1. */
  source: { host: string; requests(): number };
  /** An OCI layout of bench/image at v1, for the push row. */
  layout: string;
  work: string;
  cli: string;
  crane?: string;
  rounds: number;
  bigMiB: number;
  log: (line: string) => void;
}

/** What one tool runs for one row, given a fresh destination host and a fresh directory. */
type Invocation = (dest: string, dir: string) => [string, string[]] | undefined;
interface RowSpec {
  name: string;
  /** The row writes into a destination registry (started fresh per run). */
  needsRegistry: boolean;
  run: Record<Tool, Invocation>;
}

export type CommandRows = Record<string, Record<Tool, Sample[]>>;

const TLS = ["--src-tls-verify=false", "--dest-tls-verify=false"];

function rowSpecs(setup: CommandSetup): RowSpec[] {
  const src = (repo: string) => `${setup.source.host}/${repo}:v1`;
  const node = process.execPath;
  // A cold manifest cache per run, as skopeo's blob-info cache is removed.
  const regkit = (...args: string[]): [string, string[]] => [
    node,
    [setup.cli, "--cache-dir", regkitCache(setup), ...args],
  ];
  const crane = (...args: string[]): [string, string[]] | undefined =>
    setup.crane ? [setup.crane, [...args, "--insecure"]] : undefined;
  const copyRow = (name: string, repo: string, skopeoExtra: string[] = []): RowSpec => ({
    name,
    needsRegistry: true,
    run: {
      regkit: (dest) => regkit("copy", src(repo), `${dest}/${repo}:v1`),
      skopeo: (dest) => [
        "skopeo",
        ["copy", "-q", ...skopeoExtra, ...TLS, `docker://${src(repo)}`, `docker://${dest}/${repo}:v1`],
      ],
      crane: (dest) => crane("copy", src(repo), `${dest}/${repo}:v1`),
    },
  });
  return [
    {
      // The floor the start-up goal is measured against (2× a bare Node start), in the regkit column.
      name: "bare `node -e 0` (the floor)",
      needsRegistry: false,
      run: { regkit: () => [node, ["-e", "0"]], skopeo: () => undefined, crane: () => undefined },
    },
    {
      name: "--version",
      needsRegistry: false,
      run: {
        regkit: () => regkit("--version"),
        skopeo: () => ["skopeo", ["--version"]],
        crane: () => (setup.crane ? [setup.crane, ["version"]] : undefined),
      },
    },
    {
      name: "digest of a tag",
      needsRegistry: false,
      run: {
        regkit: () => regkit("digest", src("bench/image")),
        skopeo: () => [
          "skopeo",
          ["inspect", "--raw", "--tls-verify=false", `docker://${src("bench/image")}`],
        ],
        crane: () => crane("digest", src("bench/image")),
      },
    },
    {
      name: "ls (tags of a repository)",
      needsRegistry: false,
      run: {
        regkit: () => regkit("ls", `${setup.source.host}/bench/image`),
        skopeo: () => [
          "skopeo",
          ["list-tags", "--tls-verify=false", `docker://${setup.source.host}/bench/image`],
        ],
        crane: () => crane("ls", `${setup.source.host}/bench/image`),
      },
    },
    copyRow("copy a 2-platform index", "bench/index", ["--all"]),
    copyRow("copy 4 × 64 MiB registry → registry", "bench/image"),
    {
      name: "pull 4 × 64 MiB to an OCI layout",
      needsRegistry: false,
      run: {
        regkit: (_, dir) => regkit("pull", src("bench/image"), dir),
        skopeo: (_, dir) => [
          "skopeo",
          ["copy", "-q", ...TLS, `docker://${src("bench/image")}`, `oci:${dir}:v1`],
        ],
        crane: (_, dir) => crane("pull", "--format", "oci", src("bench/image"), dir),
      },
    },
    {
      name: "push an OCI layout (4 × 64 MiB)",
      needsRegistry: true,
      run: {
        regkit: (dest) => regkit("push", setup.layout, `${dest}/bench/image:v1`),
        skopeo: (dest) => [
          "skopeo",
          ["copy", "-q", ...TLS, `oci:${setup.layout}:v1`, `docker://${dest}/bench/image:v1`],
        ],
        crane: (dest) => crane("push", setup.layout, `${dest}/bench/image:v1`),
      },
    },
    ...(setup.bigMiB > 0 ? [copyRow(`copy a ${setup.bigMiB} MiB layer`, "bench/big")] : []),
  ];
}

const regkitCache = (setup: CommandSetup) => join(setup.work, "regkit-cache");

/** Runs every row for every tool, `rounds` times, interleaved. */
export async function commandRows(setup: CommandSetup): Promise<CommandRows> {
  const specs = rowSpecs(setup);
  const tools: Tool[] = setup.crane ? ["regkit", "skopeo", "crane"] : ["regkit", "skopeo"];
  const rows: CommandRows = {};
  for (const spec of specs) rows[spec.name] = { regkit: [], skopeo: [], crane: [] };
  for (let round = 0; round < setup.rounds; round++) {
    setup.log(`commands: round ${round + 1}/${setup.rounds}`);
    for (const spec of specs) {
      for (const tool of rotated(tools, round)) {
        const dir = join(setup.work, `out-${tool}-${round}`);
        const dest = spec.needsRegistry ? await startDistribution({ accessLog: true }) : undefined;
        try {
          const invocation = spec.run[tool](dest?.host ?? "", dir);
          if (!invocation) continue;
          await mkdir(join(dir, ".."), { recursive: true });
          const before = setup.source.requests();
          const [command, args] = invocation;
          await rm(regkitCache(setup), { recursive: true, force: true });
          const sample = command === "skopeo" ? await skopeo(args) : await child(command, args);
          await new Promise((resolve) => setTimeout(resolve, 100)); // access-log lines trail responses
          sample.requests = setup.source.requests() - before + (dest?.requests() ?? 0);
          rows[spec.name]![tool].push(sample);
        } finally {
          await dest?.stop();
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  }
  return rows;
}
