/**
 * How the bench measures: commands run as children under `/usr/bin/time`
 * (wall, the child's own user+sys CPU, its peak RSS), a server's CPU read
 * from /proc before and after, medians over interleaved rounds.
 */
import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);
export const SKOPEO_CACHE = "/var/lib/containers/cache/blob-info-cache-v1.boltdb";

export interface Sample {
  wallMs: number;
  /** User + system CPU of the process that did the work (a child's own, not the bench's). */
  cpuMs: number;
  /** Peak resident set of the child process, when the work ran in one. */
  rssKiB?: number;
  /** Blob bytes moved, when the copy reports it. */
  bytes?: number;
  /** Requests the registries logged for the work. */
  requests?: number;
  /** CPU the receiving server spent on the work. */
  serverCpuMs?: number;
}

export async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

/** Runs a command as a child under `/usr/bin/time`, timed, with its own CPU and peak RSS. */
export async function child(command: string, args: string[]): Promise<Sample & { stdout: string }> {
  let rssKiB = Number.NaN;
  let cpuMs = Number.NaN;
  let stdout = "";
  const sample = await timed(async () => {
    const output = await run("/usr/bin/time", ["-f", "%M %U %S", command, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`${command} ${args.join(" ")} failed: ${error.stderr ?? error.message}`);
    });
    stdout = output.stdout;
    const [rss, user, system] = (output.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
    rssKiB = rss ?? Number.NaN;
    cpuMs = ((user ?? Number.NaN) + (system ?? Number.NaN)) * 1000;
  });
  return { ...sample, cpuMs, rssKiB, stdout };
}

/** skopeo, cold: its blob-info cache would otherwise skip work the other tools do. */
export async function skopeo(args: string[]): Promise<Sample> {
  await rm(SKOPEO_CACHE, { force: true });
  return child("skopeo", args);
}

/** User + system CPU a process has used so far, from /proc (Linux), in ms. */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const medianOf = (samples: Sample[], key: keyof Sample) =>
  median(samples.map((s) => s[key]).filter((v): v is number => typeof v === "number"));

export const rounded = (value: number) => (Number.isFinite(value) ? Math.round(value) : undefined);

export const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Number((a / b).toFixed(2)) : undefined;

/** Rotates the order of the tools per round: whoever goes first meets a colder page cache. */
export function rotated<T>(items: T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
