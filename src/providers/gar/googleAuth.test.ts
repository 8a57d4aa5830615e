/**
 * Where Google access tokens come from, against the Artifact Registry fake's
 * OAuth2 endpoint: a ready token, key files checked before the library sees
 * them, gcloud's ADC file, no credentials at all, and the endpoint's refusals.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { thrown } from "../../../test/support/thrown.js";
import { AuthenticationError, ConfigurationError, exitCodeFor } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import { type GarFake, garFake } from "../../sim/gar/fake.js";
import { type RegistryServer, startRegistryServer } from "../../sim/server.js";
import { createTransport, type Transport } from "../../transport/index.js";
import { GoogleTokenSource, readKeyFile } from "./googleAuth.js";

let work: string;
let fake: GarFake;
let server: RegistryServer;
let transport: Transport;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "regkit-google-auth-"));
  fake = garFake();
  server = await startRegistryServer({ providers: [fake] });
  transport = createTransport({ insecureHosts: [new URL(server.url).host] });
});
afterAll(async () => {
  await transport.close();
  await server.close();
  await rm(work, { recursive: true, force: true });
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(work, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const source = (options: Partial<ConstructorParameters<typeof GoogleTokenSource>[0]> = {}) =>
  new GoogleTokenSource({
    send: transport.send,
    tokenUrl: `${server.url}/gar/oauth2/token`,
    env: { CLOUDSDK_CONFIG: join(work, "no-gcloud"), HOME: work },
    background: false,
    ...options,
  });

describe("Google credentials files", () => {
  it("are checked before use, each failure a configuration error naming the file, never its content", async () => {
    const cases: Array<[unknown, string]> = [
      ["[1, 2]", "is not a JSON object"],
      ["null", "is not a JSON object"],
      [{ client_email: "x@y" }, 'lacks "type"'],
      [
        { type: "authorized_user", client_id: "id" },
        '(authorized_user) lacks "client_secret", "refresh_token"',
      ],
      [{ type: "service_account", private_key: "SECRET-KEY" }, '(service_account) lacks "client_email"'],
    ];
    for (const [content, message] of cases) {
      const path = await file("key.json", content);
      const error = await thrown(readKeyFile(path));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.message).toBe(`Google credentials file ${path} ${message}`);
      expect(error.message).not.toContain("SECRET-KEY");
    }
    const absent = await thrown(readKeyFile(join(work, "absent.json")));
    expect(absent.message).toBe(`cannot read Google credentials file ${join(work, "absent.json")}: ENOENT`);
    // A kind regkit has no rule for goes to the library as it is.
    expect((await readKeyFile(await file("odd.json", { type: "future_kind" }))).type).toBe("future_kind");
  });
});

describe("Google token source", () => {
  it("uses a ready access token as it is, and keeps it after a refusal (there is nothing to refresh)", async () => {
    const tokens = source({ accessToken: new SecretString("ya29.ready") });
    expect(await tokens.source()).toEqual({ kind: "access-token", source: "GOOGLE_OAUTH_ACCESS_TOKEN" });
    const token = await tokens.token();
    expect(token.reveal()).toBe("ya29.ready");
    tokens.invalidate(token);
    expect((await tokens.token()).reveal()).toBe("ya29.ready");
    expect(tokens.fetched).toBe(0);
  });

  it("gets a token with a service account key, caches it, and fetches again only after a refusal", async () => {
    const keyFile = await file("sa.json", fake.serviceAccountKey);
    const tokens = source({ keyFile });
    const first = await tokens.token();
    expect(await tokens.token()).toBe(first);
    expect(tokens.fetched).toBe(1);
    tokens.invalidate(new SecretString("some other token"));
    expect(await tokens.token()).toBe(first);
    tokens.invalidate(first);
    const second = await tokens.token();
    expect(second.reveal()).not.toBe(first.reveal());
    expect(tokens.fetched).toBe(2);
    expect(await tokens.source()).toEqual({ kind: "key-file", source: keyFile, type: "service_account" });
    tokens.close();
  });

  it("finds gcloud's ADC file, and reports the token endpoint's refusal with its reason", async () => {
    const gcloud = join(work, "gcloud");
    await mkdir(gcloud, { recursive: true });
    await file("gcloud/application_default_credentials.json", {
      type: "authorized_user",
      client_id: "id.apps.googleusercontent.com",
      client_secret: "client-secret",
      refresh_token: "1//refresh-secret",
    });
    const tokens = source({ env: { CLOUDSDK_CONFIG: gcloud } });
    const adc = join(gcloud, "application_default_credentials.json");
    expect(await tokens.source()).toEqual({
      kind: "key-file",
      source: `gcloud ADC (${adc})`,
      type: "authorized_user",
    });
    // The fake's endpoint takes JWT-bearer assertions only: a refresh-token grant is refused as Google refuses.
    const error = await thrown(tokens.token());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.code).toBe("TOKEN_REFRESH_FAILED");
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      `Google token request (gcloud ADC (${adc})) failed with HTTP 400: unsupported_grant_type: only JWT-bearer assertions`,
    );
    expect(error.message).not.toContain("refresh-secret");
    expect(exitCodeFor(error)).toBe(4);
  });

  it("without any credentials says every way to give some", async () => {
    const error = await thrown(source().token());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.code).toBe("CREDENTIALS_NOT_FOUND");
    expect(error.message).toMatch(/^no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS/);
  });

  it("a key the library cannot use is a configuration error naming the file", async () => {
    const keyFile = await file("external.json", {
      type: "external_account",
      audience: "a",
      subject_token_type: "t",
    });
    const error = await thrown(source({ keyFile }).token());
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      `Google credentials file ${keyFile} (external_account) lacks "credential_source"`,
    );
  });
});
