import { spawn } from "node:child_process";
import { z } from "zod";
import { ConfigurationError } from "../core/errors.js";
import { SecretString } from "../core/secret.js";
import type { Credential } from "./credentials.js";

/** A docker-credential-helper failed in a way that is not "no credentials". */
export class CredentialHelperError extends ConfigurationError {
  constructor(helper: string, message: string) {
    super(`credential helper docker-credential-${helper}: ${message}`, { code: "CREDENTIAL_HELPER" });
  }
}

const getResponse = z.object({ ServerURL: z.string().optional(), Username: z.string(), Secret: z.string() });
const MAX_OUTPUT = 64 * 1024;
const TIMEOUT_MS = 30_000;

/** Identity tokens are stored with this user name by Docker. */
const TOKEN_USERNAME = "<token>";

function run(helper: string, action: string, input: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [action], { stdio: ["pipe", "pipe", "pipe"] });
    // Our own timer: spawn's `timeout` outlives a helper that failed to start and holds the process.
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    timer.unref();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk.toString("utf8");
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new CredentialHelperError(
          helper,
          error.code === "ENOENT" ? "not found on PATH" : `could not run (${error.code ?? error.message})`,
        ),
      );
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal) reject(new CredentialHelperError(helper, `killed by ${signal}`));
      // Helpers print their error on stdout; pass it on only when it is not a secret-bearing success.
      else
        resolve({ code: code ?? 1, stdout: code === 0 ? stdout : `${stdout}${stderr}`.trim().slice(0, 200) });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

/** The docker-credential-helpers protocol: get, store, erase, list over stdin/stdout. */
export class CredentialHelper {
  readonly name: string;

  constructor(name: string) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name))
      throw new ConfigurationError(`invalid credential helper name ${JSON.stringify(name)}`);
    this.name = name;
  }

  async get(serverUrl: string): Promise<Credential | undefined> {
    const { code, stdout } = await run(this.name, "get", serverUrl);
    if (code !== 0) {
      if (/credentials not found/i.test(stdout)) return undefined;
      throw new CredentialHelperError(this.name, `get failed (exit ${code}): ${oneLine(stdout)}`);
    }
    let parsed: z.infer<typeof getResponse>;
    try {
      parsed = getResponse.parse(JSON.parse(stdout));
    } catch {
      throw new CredentialHelperError(this.name, "get printed something that is not credentials JSON");
    }
    if (parsed.Secret === "") return undefined;
    if (parsed.Username === TOKEN_USERNAME)
      return { kind: "identity-token", token: new SecretString(parsed.Secret) };
    return { kind: "basic", username: parsed.Username, password: new SecretString(parsed.Secret) };
  }

  async store(serverUrl: string, credential: Credential): Promise<void> {
    const body =
      credential.kind === "basic"
        ? { ServerURL: serverUrl, Username: credential.username, Secret: credential.password.reveal() }
        : { ServerURL: serverUrl, Username: TOKEN_USERNAME, Secret: credential.token.reveal() };
    const { code, stdout } = await run(this.name, "store", JSON.stringify(body));
    if (code !== 0)
      throw new CredentialHelperError(this.name, `store failed (exit ${code}): ${oneLine(stdout)}`);
  }

  async erase(serverUrl: string): Promise<void> {
    const { code, stdout } = await run(this.name, "erase", serverUrl);
    if (code !== 0 && !/credentials not found/i.test(stdout)) {
      throw new CredentialHelperError(this.name, `erase failed (exit ${code}): ${oneLine(stdout)}`);
    }
  }

  async list(): Promise<Record<string, string>> {
    const { code, stdout } = await run(this.name, "list", "");
    if (code !== 0)
      throw new CredentialHelperError(this.name, `list failed (exit ${code}): ${oneLine(stdout)}`);
    try {
      return z.record(z.string(), z.string()).parse(JSON.parse(stdout));
    } catch {
      throw new CredentialHelperError(this.name, "list printed something that is not JSON");
    }
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim() || "no output";
}
