/**
 * Library work against the most used Node registry client,
 * `@snyk/docker-registry-v2-client` 4.0.5 (needle; no digest verification):
 * each run a process of its own (bench/clientWork.mjs) so that its peak RSS
 * is its own, the work timed inside it (no start-up), the two clients
 * interleaved and their order rotated per round.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { child, rotated, type Sample } from "./measure.js";

export type Client = "regkit" | "snyk";
export type ClientRows = Record<string, Record<Client, Sample[]>>;

export interface ClientSetup {
  host: string;
  repo: string;
  tag: string;
  layerDigests: string[];
  layerMiB: number;
  work: string;
  rounds: number;
  log: (line: string) => void;
}

const WORKER = join(import.meta.dirname, "clientWork.mjs");

export async function clientRows(setup: ClientSetup): Promise<ClientRows> {
  const layers = `download the ${setup.layerDigests.length} × ${setup.layerMiB} MiB layers to files, concurrently`;
  const gets = "100 sequential manifest GETs";
  const works: Record<string, (client: Client, round: number) => string[]> = {
    [layers]: (client, round) => [
      "layers",
      setup.host,
      setup.repo,
      setup.layerDigests.join(","),
      join(setup.work, `${client}-layers-${round}`),
    ],
    [gets]: () => ["gets", setup.host, setup.repo, setup.tag],
  };
  const rows: ClientRows = {};
  for (const name of Object.keys(works)) rows[name] = { regkit: [], snyk: [] };
  for (let round = 0; round < setup.rounds; round++) {
    setup.log(`clients: round ${round + 1}/${setup.rounds}`);
    for (const [name, args] of Object.entries(works))
      for (const client of rotated<Client>(["regkit", "snyk"], round)) {
        const run = await child(process.execPath, [WORKER, client, ...args(client, round)]);
        const inner = JSON.parse(run.stdout) as { wallMs: number; cpuMs: number };
        rows[name]![client].push({ wallMs: inner.wallMs, cpuMs: inner.cpuMs, rssKiB: run.rssKiB });
        await rm(join(setup.work, `${client}-layers-${round}`), { recursive: true, force: true });
      }
  }
  return rows;
}
