import { type Command, Option } from "commander";
import type { Credential, ResolvedCredential } from "../../auth/credentials.js";
import { UsageError } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import {
  type CliIo,
  endpointsFromEnvironment,
  type GlobalOptions,
  writeJson,
  writeLine,
} from "../context.js";
import { readSecret } from "../secretInput.js";

/** `docker.io` and friends are one registry; everything else is used as written. */
function registryArgument(value: string): string {
  const host = value.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (!/^[A-Za-z0-9.\-:[\]]+$/.test(host)) throw new UsageError(`invalid registry ${JSON.stringify(value)}`);
  return host.toLowerCase();
}

export function registerLogin(program: Command, io: CliIo): void {
  program
    .command("login")
    .description("verify credentials against REGISTRY and store them (credential helper or Docker config)")
    .argument("<registry>", "registry host, e.g. ghcr.io or 127.0.0.1:5000")
    .option("-u, --username <user>", "user name")
    .option("--password-stdin", "read the password or token from stdin")
    .addOption(
      new Option(
        "-p, --password <password>",
        "the password or token (as docker and crane take it; other users see it in ps and shell history: prefer --password-stdin)",
      ).conflicts("passwordStdin"),
    )
    .action(
      async (
        registryText: string,
        options: { username?: string; passwordStdin?: boolean; password?: string },
        command: Command,
      ) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        const registry = registryArgument(registryText);
        if (options.password !== undefined)
          io.stderr.write(
            "regkit: warning: a password on the command line is visible to other users (ps, shell history); use --password-stdin\n",
          );
        const [{ Registry }, { basic, DockerConfig }] = await Promise.all([
          import("../../registry/registry.js"),
          import("../../auth/index.js"),
        ]);
        // The credential is asked for only once the registry has said it wants one.
        let given: ResolvedCredential | undefined;
        const client = new Registry({
          insecureHosts: globals.insecureRegistry ?? [],
          endpoints: endpointsFromEnvironment(),
          credentials: { name: "login", resolve: async () => given },
        });
        let credential: Credential;
        try {
          // A registry that answers anonymously has nothing to check credentials against: storing them would only mislead.
          if ((await client.ping(registry, { anonymous: true })).status === 200) {
            if (globals.json) writeJson(io, { registry, loginRequired: false, stored: false });
            else writeLine(io, `${registry} needs no login: it answers without credentials; nothing stored`);
            return;
          }
          const username = options.username ?? (await promptLine(io, "Username: "));
          if (!username) throw new UsageError("a user name is required (-u USER)");
          const password =
            options.password !== undefined
              ? new SecretString(options.password)
              : options.passwordStdin
                ? await readStdin(io)
                : await readSecret(io, "Password: ");
          if (password.isEmpty()) throw new UsageError("empty password");
          credential = basic(username, password);
          given = {
            credential,
            source:
              options.password !== undefined ? "--password" : options.passwordStdin ? "stdin" : "the prompt",
          };
          await client.verifyAccess(registry);
        } finally {
          await client.close();
        }
        const where = await new DockerConfig().store(registry, credential);
        const username = credential.kind === "basic" ? credential.username : "";
        if (globals.json) writeJson(io, { registry, username, storedIn: where });
        else writeLine(io, `Login Succeeded (${username} on ${registry}, stored in ${where})`);
      },
    );

  program
    .command("logout")
    .description("remove stored credentials for REGISTRY")
    .argument("<registry>", "registry host")
    .action(async (registryText: string, _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const registry = registryArgument(registryText);
      const { DockerConfig } = await import("../../auth/index.js");
      const removed = await new DockerConfig().erase(registry);
      if (globals.json) writeJson(io, { registry, removed });
      else
        writeLine(io, removed ? `Removed login credentials for ${registry}` : `Not logged in to ${registry}`);
    });

  const auth = program.command("auth").description("inspect credentials");
  auth
    .command("status")
    .description("show which credential source regkit would use for REGISTRY (never the secret)")
    .argument("<registry>", "registry host")
    .action(async (registryText: string, _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const registry = registryArgument(registryText);
      const { defaultCredentials } = await import("../../auth/index.js");
      const found = await defaultCredentials().resolve({ registry });
      const kind = found?.credential.kind;
      const user = found?.credential.kind === "basic" ? found.credential.username : undefined;
      if (globals.json) {
        writeJson(io, {
          registry,
          source: found?.source ?? "anonymous",
          kind: kind ?? "anonymous",
          ...(user ? { username: user } : {}),
        });
      } else if (!found) {
        writeLine(io, `${registry}: anonymous (no credentials found)`);
      } else {
        writeLine(io, `${registry}: ${kind}${user ? ` as ${user}` : ""} from ${found.source}`);
      }
    });
}

async function readStdin(io: CliIo): Promise<SecretString> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  // Like docker: one trailing newline is not part of the secret.
  return new SecretString(
    Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, ""),
  );
}

async function promptLine(io: CliIo, prompt: string): Promise<string> {
  if (!(io.stdin as { isTTY?: boolean }).isTTY)
    throw new UsageError("no user name given (-u USER) and stdin is not a terminal");
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}
