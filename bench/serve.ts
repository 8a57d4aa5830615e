/**
 * Registries people run in CI, receiving a push: CNCF distribution,
 * `regkit serve` in memory and `regkit serve --storage DIR`, each started
 * fresh per run, pushed to by crane (with CRANE=path) and skopeo from the
 * same OCI layout. The server's own CPU comes from /proc, its peak RSS from
 * VmHWM; the pusher is timed as a child.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDistribution } from "../test/support/distribution.js";
import { child, processCpuMs, rotated, type Sample, skopeo } from "./measure.js";

export type Server = "distribution" | "regkit serve" | "regkit serve --storage";
export type Pusher = "crane" | "skopeo";
export type ServeRows = Record<string, Sample[]>;

interface Running {
  host: string;
  pid: number;
  stop(): Promise<void>;
}

async function startRegkitServe(cli: string, storage: boolean): Promise<Running> {
  const dir = storage ? await mkdtemp(join(tmpdir(), "regkit-bench-serve-")) : undefined;
  const server = spawn(
    process.execPath,
    [cli, "--json", "serve", "--port", "0", ...(dir ? ["--storage", dir] : [])],
    // Request log lines at -v would be the bench's output; warnings still show.
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const endpoints = await new Promise<{ registry: string }>((resolve, reject) => {
    let out = "";
    server.once("exit", (code) => reject(new Error(`regkit serve exited with ${code}`)));
    server.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!));
    });
  });
  return {
    host: new URL(endpoints.registry).host,
    pid: server.pid!,
    stop: async () => {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function start(server: Server, cli: string): Promise<Running> {
  if (server !== "distribution") return startRegkitServe(cli, server === "regkit serve --storage");
  const registry = await startDistribution();
  return { host: registry.host, pid: registry.pid!, stop: () => registry.stop() };
}

async function peakRssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

export const serveRowName = (server: Server, pusher: Pusher) => `${pusher} push → ${server}`;

export async function serveRows(options: {
  cli: string;
  layout: string;
  crane?: string;
  rounds: number;
  log: (line: string) => void;
  /** Default: all three. */
  servers?: Server[];
  /** Default: crane (when given) and skopeo. */
  pushers?: Pusher[];
}): Promise<ServeRows> {
  const servers = options.servers ?? (["distribution", "regkit serve", "regkit serve --storage"] as Server[]);
  const pushers = options.pushers ?? ((options.crane ? ["crane", "skopeo"] : ["skopeo"]) as Pusher[]);
  const rows: ServeRows = {};
  for (let round = 0; round < options.rounds; round++) {
    options.log(`serve ingest: round ${round + 1}/${options.rounds}`);
    for (const pusher of pushers) {
      for (const server of rotated(servers, round)) {
        const running = await start(server, options.cli);
        try {
          const target = `${running.host}/bench/image:v1`;
          const cpuBefore = await processCpuMs(running.pid);
          const sample =
            pusher === "crane"
              ? await child(options.crane!, ["push", "--insecure", options.layout, target])
              : await skopeo([
                  "copy",
                  "-q",
                  "--dest-tls-verify=false",
                  `oci:${options.layout}:v1`,
                  `docker://${target}`,
                ]);
          sample.serverCpuMs = (await processCpuMs(running.pid)) - cpuBefore;
          // The server's peak RSS, not the pusher's.
          sample.rssKiB = await peakRssKiB(running.pid);
          const name = serveRowName(server, pusher);
          rows[name] = [...(rows[name] ?? []), sample];
        } finally {
          await running.stop();
        }
      }
    }
  }
  return rows;
}
