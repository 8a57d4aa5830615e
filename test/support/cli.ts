/**
 * The built `regkit` CLI as users run it, in child processes: one command at
 * a time, `regkit serve` with provider fakes, `regkit webhook serve`.
 * CLI tests spawn `dist/cli/main.js`, so `npm run build` comes first.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";

export const CLI = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `regkit ARGS` with PATH and `env` as its whole environment (nothing of
 * the developer's own credentials or config leaks in), `input` on stdin; a
 * run is killed after a minute so a hang fails the test instead of stalling it.
 */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 60_000, env: { PATH: process.env.PATH ?? "", ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A runner whose environment starts from `base()`, read at each call (after `beforeAll` filled it in). */
export function cliRunner(
  base: () => Record<string, string>,
): (args: string[], env?: Record<string, string>, input?: string) => Promise<CliResult> {
  return (args, env = {}, input) => runCli(args, { ...base(), ...env }, input);
}

export interface ServedFakes {
  child: ChildProcess;
  /** What `regkit --json serve` printed: `registry`, `token` and one entry per provider endpoint. */
  urls: Record<string, string>;
  /** SIGTERM, then waits for the process to end. */
  stop(): Promise<void>;
}

/**
 * `regkit --json serve --port 0 ARGS` (e.g. `--providers gar`) in a child
 * process, once it printed its endpoints; rejects with its stderr when it
 * exits before that.
 */
export async function serveFakes(args: string[]): Promise<ServedFakes> {
  const child = spawn(process.execPath, [CLI, "--json", "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4096);
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString()));
    child.once("exit", (code) => reject(new Error(`regkit serve exited (${code}): ${stderr.trim()}`)));
  });
  return { child, urls: JSON.parse(line) as Record<string, string>, stop: () => stop(child) };
}

export interface ServedWebhooks {
  child: ChildProcess;
  /** Where it takes POSTs. */
  url: string;
  /** The lines it printed on stdout so far: one JSON event each. */
  lines: string[];
  /** Resolves with line `index` (0: the first) once it was printed. */
  line(index?: number): Promise<string>;
  stop(): Promise<void>;
}

/** `regkit webhook serve --provider PROVIDER --port 0 ARGS` once it named its URL on stderr. */
export async function serveWebhooks(
  provider: "dockerhub" | "github" | "gar",
  args: string[] = [],
  env?: Record<string, string>,
): Promise<ServedWebhooks> {
  const child = spawn(
    process.execPath,
    [CLI, "webhook", "serve", "--provider", provider, "--port", "0", ...args],
    { stdio: ["ignore", "pipe", "pipe"], ...(env ? { env: { PATH: process.env.PATH ?? "", ...env } } : {}) },
  );
  const lines: string[] = [];
  const waiting: Array<{ index: number; resolve: (line: string) => void }> = [];
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    const complete = stdout.split("\n");
    stdout = complete.pop() ?? "";
    lines.push(...complete.filter(Boolean));
    for (const waiter of waiting.filter((w) => w.index < lines.length)) {
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve(lines[waiter.index]!);
    }
  });
  const line = (index = 0) =>
    index < lines.length
      ? Promise.resolve(lines[index]!)
      : new Promise<string>((resolve) => waiting.push({ index, resolve }));
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /^webhook (http:\/\/\S+)$/m.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) =>
      reject(new Error(`regkit webhook serve exited (${code}): ${stderr.trim()}`)),
    );
  });
  return { child, url, lines, line, stop: () => stop(child) };
}

/** SIGTERM (the servers drain and exit), SIGKILL if that has not ended it after a while. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 20_000).unref();
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
