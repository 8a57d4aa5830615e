import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { RegkitError, UsageError } from "../../core/errors.js";
import { type CliIo, type GlobalOptions, writeLine } from "../context.js";
import { count } from "../format.js";
import { collect, parseDuration, parsePort } from "../options.js";

interface ServeOptions {
  port: number;
  host: string;
  auth: "none" | "basic" | "token";
  users?: string;
  storage?: string;
  providers?: string;
  faults?: string;
  faultSeed: number;
  hostile?: string;
  pullLimit?: { anonymous: number; authenticated: number };
  webhook?: string[];
  webhookSecretFile?: string;
  grace: number;
  uploadTtl: number;
}

/** Whether only this machine can reach an address the server listens on. */
function isLoopback(host: string): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|::1|::ffff:127(\.\d{1,3}){3}|0:0:0:0:0:0:0:1)$/i.test(host);
}

/** Resolves with the first SIGINT/SIGTERM; `again` with the second (which ends the grace at once). */
function signals(): { first: Promise<NodeJS.Signals>; again: Promise<NodeJS.Signals> } {
  let seen = 0;
  let onFirst: (signal: NodeJS.Signals) => void = () => {};
  let onAgain: (signal: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((resolve) => (onFirst = resolve));
  const again = new Promise<NodeJS.Signals>((resolve) => (onAgain = resolve));
  const handler = (signal: NodeJS.Signals) => (++seen === 1 ? onFirst : onAgain)(signal);
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return { first, again };
}

const seconds = (ms: number) => `${ms / 1000} s`;

function parsePullLimit(value: string): { anonymous: number; authenticated: number } {
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match) throw new InvalidArgumentError("expected ANONYMOUS[:AUTHENTICATED], e.g. 100:200");
  return { anonymous: Number(match[1]), authenticated: Number(match[2] ?? match[1]) };
}

export function registerServe(program: Command, io: CliIo): void {
  program
    .command("serve")
    .description("run regkit's embedded OCI registry until SIGINT/SIGTERM")
    .option("--port <port>", "port to listen on (0 picks a free one)", parsePort, 5000)
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .addOption(
      new Option("--auth <mode>", "authentication").choices(["none", "basic", "token"]).default("none"),
    )
    .option("--users <file>", "accounts for basic/token auth: one name:password per line")
    .option("--storage <dir>", "keep content in DIR (survives restarts) instead of memory")
    .option("--providers <list>", "also serve these provider API fakes (comma-separated)")
    .option(
      "--faults <json>",
      'inject faults: JSON array of rules, e.g. [{"kind":"status","status":503,"probability":0.2}]',
    )
    .option(
      "--pull-limit <anon[:auth]>",
      "Docker Hub fake: pulls per 6 h for anonymous[:authenticated] callers (default 100:200)",
      parsePullLimit,
    )
    .option(
      "--webhook <url>",
      "provider fakes POST their webhooks (Docker Hub: tag pushed, tag deleted) to URL (repeatable)",
      collect,
    )
    .option(
      "--webhook-secret-file <file>",
      "sign those deliveries with X-Hub-Signature-256 using this secret",
    )
    .option("--fault-seed <n>", "seed for probabilistic faults", (v) => Number.parseInt(v, 10), 1)
    .option("--hostile <kinds>", "behave like a hostile registry: comma-separated kinds (see the README)")
    .addOption(
      new Option(
        "--grace <duration>",
        "on SIGINT/SIGTERM, let requests in flight finish this long, then force-close them and exit 1",
      )
        .argParser(parseDuration)
        .default(10_000, "10s"),
    )
    .addOption(
      new Option(
        "--upload-ttl <duration>",
        "remove upload sessions untouched this long (at start and as it runs)",
      )
        .argParser(parseDuration)
        .default(3_600_000, "1h"),
    )
    .action(async (options: ServeOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (options.uploadTtl < 1) throw new UsageError("--upload-ttl must be longer than 0");
      // A provider fake may bring its own auth (Docker Hub: tokens, anonymous pulls allowed).
      if (options.auth !== "none" && !options.users)
        throw new UsageError(`--auth ${options.auth} needs --users FILE`);
      // Loaded here so that other commands never pay for the server's router.
      const [
        { startRegistryServer },
        { Users },
        { parseFaults },
        { FileStorage },
        { loadProviderFakes },
        { createLogger, levelForVerbosity },
      ] = await Promise.all([
        import("../../sim/server.js"),
        import("../../sim/auth/users.js"),
        import("../../sim/faults.js"),
        import("../../sim/fileStorage.js"),
        import("../../sim/fakes.js"),
        import("../../core/logger.js"),
      ]);
      // A server's log is its record: warnings (5xx, failures, a forced stop) even without -v;
      // -v adds the start and stop lines and one line per request.
      const logger = createLogger(globals.verbose ? levelForVerbosity(globals.verbose) : "warn", io.stderr);
      for (const url of options.webhook ?? []) {
        if (!URL.canParse(url) || !/^https?:/.test(url))
          throw new UsageError(`--webhook needs an http(s) URL, got ${JSON.stringify(url)}`);
      }
      const secret = options.webhookSecretFile
        ? { secret: (await readFile(options.webhookSecretFile, "utf8")).replace(/\r?\n$/, "") }
        : {};
      const providers = await loadProviderFakes(
        (options.providers ?? "")
          .split(",")
          .map((p) => p.trim())
          .filter(Boolean),
        {
          ...(options.pullLimit ? { pullLimits: options.pullLimit } : {}),
          ...(options.webhook ? { webhooks: options.webhook.map((url) => ({ url, ...secret })) } : {}),
        },
      );
      const faults = options.faults
        ? { rules: parseFaults(options.faults), seed: options.faultSeed }
        : undefined;
      const users = options.users ? await Users.fromFile(options.users) : new Users();
      const server = await startRegistryServer({
        host: options.host,
        port: options.port,
        auth: options.auth,
        users,
        ...(faults ? { faults } : {}),
        ...(options.storage ? { storage: new FileStorage(options.storage) } : {}),
        ...(options.hostile ? { hostile: options.hostile } : {}),
        providers,
        uploadTtlMs: options.uploadTtl,
        logger,
      });
      const stop = signals();
      const endpoints: Record<string, string> = { registry: server.url };
      if (server.tokenServer) endpoints.token = `${server.url}/token`;
      for (const fake of providers) {
        for (const [name, path] of Object.entries(fake.endpoints)) endpoints[name] = `${server.url}${path}`;
      }
      if (globals.json) io.stdout.write(`${JSON.stringify(endpoints)}\n`);
      else for (const [name, url] of Object.entries(endpoints)) writeLine(io, `${name} ${url}`);
      if (server.auth === "none" && !isLoopback(options.host)) {
        io.stderr.write(
          `regkit: warning: serving ${options.host} without authentication: anyone who reaches port ${server.port} can push, overwrite and delete images (use --auth basic|token --users FILE)\n`,
        );
      }
      logger.info(
        {
          url: server.url,
          listen: { host: options.host, port: server.port },
          storage: options.storage ? resolve(options.storage) : "memory",
          auth: server.auth,
          graceMs: options.grace,
          uploadTtlMs: options.uploadTtl,
        },
        "listening",
      );
      const signal = await stop.first;
      logger.info({ signal, inFlight: server.inFlight, graceMs: options.grace }, "shutting down");
      const result = await server.shutdown(options.grace, stop.again);
      if (result.drained) {
        logger.info({ signal }, "stopped: every request finished");
        return;
      }
      logger.warn(
        { cut: result.cut, graceMs: options.grace },
        "stopped: force-closed requests still in flight",
      );
      throw new RegkitError(
        `shutdown: force-closed ${count(result.cut, "request")} still in flight after the ${seconds(options.grace)} grace`,
        { code: "SHUTDOWN_FORCED", category: "interrupted" },
      );
    });
}
