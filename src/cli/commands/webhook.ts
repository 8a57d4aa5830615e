import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import type { DockerHubWebhookEvent } from "../../providers/dockerhub/webhook.js";
import type { WebhookEvent, WebhookParser } from "../../providers/webhooks/receiver.js";
import type { CliIo, GlobalOptions } from "../context.js";
import { collect, parsePort, parsePositive } from "../options.js";

/**
 * What the command needs from a provider; the GitHub and Artifact Registry
 * issues add entries. Method syntax keeps a provider's own event type assignable.
 */
interface WebhookProvider<E extends WebhookEvent = WebhookEvent> {
  parser: WebhookParser<E>;
  /** The stable JSON line printed (or piped to --exec) per event. */
  line(event: E): Record<string, string>;
  /** The legacy callback a payload asks for, when the provider has one. */
  callback?(event: E, succeeded: boolean, allow?: readonly string[]): Promise<void> | undefined;
}

// Loaded inside the action so other commands never pay for the receiver and the schemas.
const PROVIDERS = {
  dockerhub: async (): Promise<WebhookProvider> => {
    const [{ dockerHubWebhookParser, dockerHubEventLine }, { sendDockerHubCallback }] = await Promise.all([
      import("../../providers/dockerhub/webhook.js"),
      import("../../providers/dockerhub/callback.js"),
    ]);
    const provider: WebhookProvider<DockerHubWebhookEvent> = {
      parser: dockerHubWebhookParser,
      line: dockerHubEventLine,
      callback: (event, succeeded, allow) =>
        event.callbackUrl === undefined
          ? undefined
          : sendDockerHubCallback(
              event.callbackUrl,
              {
                state: succeeded ? "success" : "failure",
                description: succeeded ? "received by regkit" : "regkit --exec command failed",
                context: "regkit",
              },
              allow ? { allow } : {},
            ),
    };
    return provider;
  },
  gar: async (options: { audience?: string } = {}): Promise<WebhookProvider> => {
    const { garWebhookParser, garEventLine, idTokenVerifier } = await import(
      "../../providers/gar/notifications.js"
    );
    let verify: ((authorization: string | undefined) => Promise<void>) | undefined;
    if (options.audience) {
      const [{ OAuth2Client }, { transportFetch }, { createRegistry }] = await Promise.all([
        import("google-auth-library"),
        import("../../providers/transportFetch.js"),
        import("../context.js"),
      ]);
      // Google's signing certificates come through regkit's transport; GOOGLE_OAUTH_CERTS_URL points elsewhere (a fake).
      const registry = await createRegistry({});
      const certsUrl = "https://www.googleapis.com/oauth2/v1/certs";
      const fetchImplementation = transportFetch(registry.context("artifactregistry-docker.pkg.dev").send, {
        operation: "google oauth2 certs",
        urlMap: new Map([[certsUrl, process.env.GOOGLE_OAUTH_CERTS_URL || certsUrl]]),
      });
      verify = idTokenVerifier(
        new OAuth2Client({ transporterOptions: { fetchImplementation } }),
        options.audience,
      );
    }
    const provider: WebhookProvider<import("../../providers/gar/notifications.js").GarNotificationEvent> = {
      parser: garWebhookParser(verify),
      line: garEventLine,
    };
    return provider;
  },
  github: async (): Promise<WebhookProvider> => {
    const { githubWebhookParser, githubEventLine } = await import("../../providers/ghcr/webhook.js");
    const provider: WebhookProvider<import("../../providers/ghcr/webhook.js").GitHubPackageEvent> = {
      parser: githubWebhookParser,
      line: githubEventLine,
    };
    return provider;
  },
} as const;

type ProviderName = keyof typeof PROVIDERS;

export const SECRET_ENV = "REGKIT_WEBHOOK_SECRET";

interface WebhookServeOptions {
  provider: ProviderName;
  /** Artifact Registry push subscriptions: the OIDC audience every push must carry a token for. */
  audience?: string;
  host: string;
  port: number;
  path: string;
  secret?: string;
  secretFile?: string;
  exec?: string;
  maxBody: number;
  callback?: boolean;
  callbackHost?: string[];
  execTimeout: number;
  maxPending: number;
}

function parsePath(value: string): string {
  if (!value.startsWith("/") || /[?#\s]/.test(value))
    throw new InvalidArgumentError("must start with / and have no query, fragment or spaces");
  return value;
}

/** `--secret`, `--secret-file` or the environment; none means signatures are not checked. */
async function resolveSecret(options: WebhookServeOptions): Promise<SecretString | undefined> {
  let value: string | undefined;
  let source: string;
  if (options.secretFile !== undefined) {
    // A trailing newline is what editors and `echo` add, never part of the secret.
    value = (await readFile(options.secretFile, "utf8")).replace(/\r?\n$/, "");
    source = "--secret-file";
  } else {
    // An empty variable is how shells and CI unset it; an empty --secret is a mistake.
    value = options.secret ?? (process.env[SECRET_ENV] || undefined);
    source = options.secret !== undefined ? "--secret" : SECRET_ENV;
  }
  if (value === undefined) return undefined;
  if (value === "") throw new UsageError(`${source} gives an empty webhook secret`);
  return new SecretString(value);
}

/**
 * Runs `command` with `input` on stdin; resolves false (reported on stderr)
 * if it fails or outlives `timeoutMs` (then it gets SIGTERM, and SIGKILL 5 s later),
 * so one stuck command cannot stop every later event.
 */
function runExec(io: CliIo, command: string, input: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Its own process group, so a timeout stops what the shell started too (they hold its pipes open).
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"], detached: true });
    const signal = (name: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, name);
      } catch {
        // Already gone.
      }
    };
    let timedOut = false;
    const kill = setTimeout(() => {
      timedOut = true;
      signal("SIGTERM");
      setTimeout(() => signal("SIGKILL"), 5000).unref();
    }, timeoutMs);
    child.stdout.pipe(io.stdout, { end: false });
    child.stderr.pipe(io.stderr, { end: false });
    // A command that does not read its stdin closes the pipe early; that alone is no failure.
    child.stdin.on("error", () => {});
    child.stdin.end(input);
    child.on("error", (error) => {
      io.stderr.write(`regkit: webhook --exec could not start: ${error.message}\n`);
      resolve(false);
    });
    child.on("close", (code, signal) => {
      clearTimeout(kill);
      if (code === 0 && !timedOut) return resolve(true);
      const why = timedOut
        ? `timed out after ${timeoutMs / 1000} s`
        : signal
          ? `killed by ${signal}`
          : `exited ${code}`;
      io.stderr.write(`regkit: webhook --exec command ${why}\n`);
      resolve(false);
    });
  });
}

export function registerWebhook(program: Command, io: CliIo): void {
  const webhook = program.command("webhook").description("receive registry webhooks");
  webhook
    .command("serve")
    .description("accept webhook POSTs and print one JSON line per accepted event until SIGINT/SIGTERM")
    .addOption(
      new Option("--provider <name>", "who sends the webhooks")
        .choices(Object.keys(PROVIDERS))
        .makeOptionMandatory(),
    )
    .option("--audience <url>", "gar: refuse (401) pushes without a Google OIDC token for this audience")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 picks a free one)", parsePort, 8080)
    .option("--path <path>", "the path deliveries are POSTed to", parsePath, "/")
    .addOption(
      new Option("--secret <secret>", `HMAC secret for X-Hub-Signature-256 (or env ${SECRET_ENV})`).conflicts(
        "secretFile",
      ),
    )
    .option("--secret-file <file>", "read the HMAC secret from FILE")
    .option("--exec <command>", "run COMMAND (via /bin/sh -c) per event with the event JSON on stdin")
    .option("--max-body <bytes>", "largest accepted body", parsePositive, 1024 * 1024)
    .option("--callback", "post the legacy success callback to an allowlisted callback_url")
    .option(
      "--callback-host <host>",
      "allow callbacks to this host or origin instead of registry.hub.docker.com (repeatable)",
      collect,
    )
    .option("--exec-timeout <seconds>", "stop an --exec command after this long", parsePositive, 60)
    .option(
      "--max-pending <n>",
      "events waiting for output or --exec before deliveries get 503 + Retry-After",
      parsePositive,
      1000,
    )
    .action(async (options: WebhookServeOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const secret = await resolveSecret(options);
      if (options.callbackHost) {
        // A bad entry is a usage error now, not a failed callback per event later.
        const { allowedOrigin } = await import("../../providers/dockerhub/callback.js");
        for (const entry of options.callbackHost) allowedOrigin(entry);
      }
      const [{ WebhookReceiver }, provider] = await Promise.all([
        import("../../providers/webhooks/receiver.js"),
        PROVIDERS[options.provider](options.audience ? { audience: options.audience } : {}),
      ]);
      let pending = 0;
      const receiver = new WebhookReceiver({
        parser: provider.parser,
        busy: (): boolean => pending >= options.maxPending,
        path: options.path,
        maxBodyBytes: options.maxBody,
        ...(secret ? { secret } : {}),
      });
      if ((globals.verbose ?? 0) > 0) {
        receiver.on("rejected", ({ status, reason }) =>
          io.stderr.write(`regkit: rejected ${status}: ${reason}\n`),
        );
      }
      receiver.on("event", () => {
        pending++;
      });
      const events = receiver.events();
      const url = await receiver.listen({ host: options.host, port: options.port });
      io.stderr.write(`webhook ${url}\n`);
      const stop = () => void receiver.close();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      // One event at a time, in order of acceptance; events accepted before a signal are still handled.
      for await (const event of events) {
        const line = JSON.stringify(provider.line(event));
        const succeeded = options.exec
          ? await runExec(io, options.exec, `${line}\n`, options.execTimeout * 1000)
          : true;
        if (!options.exec) io.stdout.write(`${line}\n`);
        if (options.callback) {
          await provider.callback?.(event, succeeded, options.callbackHost)?.catch((error: unknown) => {
            io.stderr.write(`regkit: webhook callback: ${error instanceof Error ? error.message : error}\n`);
          });
        }
        pending--;
      }
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    });
}
