import type { Command } from "commander";
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
    .action(
      async (
        registryText: string,
        options: { username?: string; passwordStdin?: boolean },
        command: Command,
      ) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        const registry = registryArgument(registryText);
        const username = options.username ?? (await promptLine(io, "Username: "));
        if (!username) throw new UsageError("a user name is required (-u USER)");
        const password = options.passwordStdin ? await readStdin(io) : await readSecret(io, "Password: ");
        if (password.isEmpty()) throw new UsageError("empty password");
        const [{ Registry }, { basic, staticCredentials, DockerConfig }] = await Promise.all([
          import("../../registry/registry.js"),
          import("../../auth/index.js"),
        ]);
        const credential = basic(username, password);
        const client = new Registry({
          insecureHosts: globals.insecureRegistry ?? [],
          endpoints: endpointsFromEnvironment(),
          credentials: staticCredentials({ [registry]: credential }, "login"),
        });
        try {
          await client.verifyAccess(registry);
        } finally {
          await client.close();
        }
        const where = await new DockerConfig().store(registry, credential);
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
