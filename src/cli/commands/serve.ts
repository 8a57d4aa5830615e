import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../../core/errors.js";
import { type CliIo, type GlobalOptions, writeLine } from "../context.js";
import { collect, parsePort } from "../options.js";

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
}

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
    .action(async (options: ServeOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      // A provider fake may bring its own auth (Docker Hub: tokens, anonymous pulls allowed).
      if (options.auth !== "none" && !options.users)
        throw new UsageError(`--auth ${options.auth} needs --users FILE`);
      // Loaded here so that other commands never pay for the server's router.
      const [{ startRegistryServer }, { Users }, { parseFaults }, { FileStorage }, { loadProviderFakes }] =
        await Promise.all([
          import("../../sim/server.js"),
          import("../../sim/auth/users.js"),
          import("../../sim/faults.js"),
          import("../../sim/fileStorage.js"),
          import("../../sim/fakes.js"),
        ]);
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
      });
      const endpoints: Record<string, string> = { registry: server.url };
      if (server.tokenServer) endpoints.token = `${server.url}/token`;
      for (const fake of providers) {
        for (const [name, path] of Object.entries(fake.endpoints)) endpoints[name] = `${server.url}${path}`;
      }
      if (globals.json) io.stdout.write(`${JSON.stringify(endpoints)}\n`);
      else for (const [name, url] of Object.entries(endpoints)) writeLine(io, `${name} ${url}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
    });
}
