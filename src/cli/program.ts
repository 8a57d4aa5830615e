import { createRequire } from "node:module";
import { Command, CommanderError, Option } from "commander";
import { exitCodeFor, isRegkitError } from "../core/errors.js";
import { registerBlob } from "./commands/blob.js";
import { registerCompletion } from "./commands/completion.js";
import { registerCopy } from "./commands/copy.js";
import { registerDigest } from "./commands/digest.js";
import { registerGar } from "./commands/gar.js";
import { registerGhcr } from "./commands/ghcr.js";
import { registerHub, registerRateLimit, registerVulns } from "./commands/hub.js";
import { registerImage } from "./commands/image.js";
import { registerList } from "./commands/list.js";
import { registerLogin } from "./commands/login.js";
import { registerManifest } from "./commands/manifest.js";
import { registerServe } from "./commands/serve.js";
import { registerWebhook } from "./commands/webhook.js";
import type { CliIo } from "./context.js";
import { hintFor } from "./hints.js";
import { collect } from "./options.js";

const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
export const VERSION = pkg.version;

export function buildProgram(io: CliIo): Command {
  const program = new Command("regkit")
    .description("work with container images on Docker Hub, GHCR, Artifact Registry and any OCI registry")
    .version(VERSION, "--version", "print the version")
    .option("--json", "machine-readable output on stdout")
    .addOption(
      new Option("-v, --verbose", "more detail on stderr (repeat for more)").argParser(countUp).default(0),
    )
    .option(
      "--insecure-registry <host>",
      "allow plain HTTP to HOST (repeatable; loopback is always allowed)",
      collect,
    )
    .option("--record <file>", "record every HTTP exchange into a HAR 1.2 cassette (secrets redacted)")
    .option("--replay <file>", "answer every HTTP exchange from a cassette, without network")
    .option(
      "--cache-dir <dir>",
      "keep verified manifests in DIR across commands (default $REGKIT_CACHE_DIR, else $XDG_CACHE_HOME/regkit)",
    )
    .option("--no-cache", "no manifest cache on disk")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Usage errors follow the one-line `regkit: …` contract.
      outputError: (text, write) => write(`regkit: ${text.replace(/^error: /, "").trim()}\n`),
    });
  registerManifest(program, io);
  registerDigest(program, io);
  registerList(program, io);
  registerBlob(program, io);
  registerCopy(program, io);
  registerImage(program, io);
  registerServe(program, io);
  registerLogin(program, io);
  registerHub(program, io);
  registerGhcr(program, io);
  registerRateLimit(program, io);
  registerVulns(program, io);
  registerGar(program, io);
  registerWebhook(program, io);
  registerCompletion(program, io);
  for (const command of program.commands) inheritOutput(command, program);
  return program;
}

function countUp(_value: string, previous: number): number {
  return previous + 1;
}

function inheritOutput(command: Command, root: Command): void {
  command.exitOverride().configureOutput(root.configureOutput());
  for (const sub of command.commands) inheritOutput(sub, root);
}

/**
 * The command `argv` runs, as a span name: `regkit gar packages` for
 * `--record FILE gar --project P packages REPO`. Options are skipped with
 * their values (`--record FILE`, `--cache-dir=DIR`) at every level, as
 * commander reads them; the first word that is no subcommand ends the path.
 */
export function commandPath(program: Command, argv: readonly string[]): string {
  const path = [program.name()];
  let command = program;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (arg.startsWith("-") && arg !== "-") {
      const option = arg.includes("=") ? undefined : optionOf(command, arg);
      // A value follows a required one; an optional one's value only when it is not itself an option.
      if (option?.required || (option?.optional && !argv[i + 1]?.startsWith("-"))) i++;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    path.push(sub.name());
    command = sub;
  }
  return path.join(" ");
}

/** The option `flag` names on `command` or, as commander also accepts there, on a command above it. */
function optionOf(command: Command, flag: string): Option | undefined {
  for (let at: Command | null = command; at; at = at.parent)
    for (const option of at.options) if (option.short === flag || option.long === flag) return option;
  return undefined;
}

/** Runs the command line and returns the process exit code (DESIGN.md contract). */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  let command: string | undefined;
  program.hook("preAction", (_program, action) => {
    command = action.name();
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" ? 0 : 2;
    }
    reportError(io, error, program.opts().verbose ?? 0, hintFor(error, command));
    return exitCodeFor(error);
  }
}

function reportError(io: CliIo, error: unknown, verbose: number, hint: string | undefined): void {
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`regkit: ${message}${hint ? `; ${hint}` : ""}\n`);
  if (!isRegkitError(error) && verbose === 0) return;
  // Causes help with network trouble; stack traces only for bugs (non-RegkitError) at -v.
  let cause = error instanceof Error ? error.cause : undefined;
  while (verbose > 0 && cause instanceof Error) {
    io.stderr.write(`regkit:   caused by: ${cause.message}\n`);
    cause = cause.cause;
  }
  if (!isRegkitError(error) && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
}
