import { Readable } from "node:stream";
import type { TracerProvider } from "@opentelemetry/api";
import { afterAll, afterEach, beforeAll, vi } from "vitest";
import { basic, staticCredentials } from "../../src/auth/credentials.js";
import type { Logger } from "../../src/core/logger.js";
import { SecretString } from "../../src/core/secret.js";
import { HubApi } from "../../src/providers/dockerhub/hubApi.js";
import { HubClient } from "../../src/providers/dockerhub/hubClient.js";
import { type HubLogin, HubSession } from "../../src/providers/dockerhub/hubSession.js";
import { Registry } from "../../src/registry/registry.js";
import type { Telemetry } from "../../src/registry/telemetry.js";
import { Users } from "../../src/sim/auth/users.js";
import {
  type DockerHubFake,
  type DockerHubFakeOptions,
  dockerHubFake,
} from "../../src/sim/dockerhub/fake.js";
import type { FaultRule } from "../../src/sim/faults.js";
import { generateImage } from "../../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../../src/sim/server.js";
import type { Handler, HttpRequest, HttpResponse } from "../../src/transport/types.js";

/* The Hub API client in-process against the Docker Hub fake, for the unit tests of hubClient/hubSession. */

export const ACCOUNTS = { alice: "wonderland", bob: "builder", carol: "two-factor-pw", library: "official" };
/** A personal access token of alice's, seeded in every fake. */
export const ALICE_PAT = "dckr_pat_alice_unit_tests";

export interface HubFakeServer {
  server: RegistryServer;
  fake: DockerHubFake;
  /** The Hub API's base URL (`…/hub`). */
  hubUrl: string;
  /** `METHOD path status` of every request the fake saw, when it has faults. */
  log(): string[];
  close(): Promise<void>;
}

/**
 * A Docker Hub fake on loopback; with `seed`, alice owns `alice/aa`, `alice/bb`
 * and the private `alice/cc` (tag `v1` each) and `library/alpine:3.20` exists.
 */
export async function startHubFake(
  options: { faults?: FaultRule[]; fake?: DockerHubFakeOptions; seed?: boolean } = {},
): Promise<HubFakeServer> {
  const fake = dockerHubFake({
    privateRepositories: ["alice/cc"],
    twoFactorUsers: ["carol"],
    accessTokens: { alice: [ALICE_PAT] },
    ...options.fake,
  });
  const server = await startRegistryServer({
    users: new Users(ACCOUNTS),
    providers: [fake],
    faults: { rules: options.faults ?? [] },
  });
  if (options.seed) {
    const image = await generateImage({ seed: "hub-unit", layers: 1, layerSize: 64 });
    const push = async (user: keyof typeof ACCOUNTS, repository: string, tag: string) => {
      const registry = new Registry({
        endpoints: { "docker.io": server.url },
        credentials: staticCredentials({ "docker.io": basic(user, ACCOUNTS[user]) }),
      });
      const repo = registry.repository("docker.io", repository);
      for (const blob of [image.config, ...image.layers])
        await repo.uploads.upload(blob.bytes, {
          digest: blob.digest,
          size: blob.size,
          mediaType: blob.mediaType,
        });
      await repo.manifests.put(tag, image.manifest.bytes, image.manifest.mediaType);
      await registry.close();
    };
    for (const name of ["aa", "bb", "cc"]) await push("alice", `alice/${name}`, "v1");
    await push("library", "library/alpine", "3.20");
  }
  return {
    server,
    fake,
    hubUrl: `${server.url}/hub`,
    log: () => server.faults?.log ?? [],
    close: () => server.close(),
  };
}

export function loginAs(
  username: string,
  secret = (ACCOUNTS as Record<string, string>)[username] ?? "",
): HubLogin {
  return { username, secret: new SecretString(secret), source: "unit test" };
}

export interface HubTestClient {
  session: HubSession;
  client: HubClient;
  api: HubApi;
  telemetry: Telemetry;
  /** Every request the client sent, in order. */
  sent: HttpRequest[];
  /** How often the session asked for its login. */
  loginCalls(): number;
  close(): Promise<void>;
}

/**
 * For a test file: one fake started before its tests (handed to `started`), the clients each test
 * made closed after it (and the clock put back), the fake closed after all. Returns the factory of
 * those clients, on the fake's Hub URL unless given another.
 */
export function useHubFake(
  options: Parameters<typeof startHubFake>[0],
  started: (hub: HubFakeServer) => void,
): (clientOptions?: Parameters<typeof hubClient>[1], hubUrl?: string) => HubTestClient {
  let hub: HubFakeServer | undefined;
  const made: HubTestClient[] = [];
  beforeAll(async () => {
    hub = await startHubFake(options);
    started(hub);
  });
  afterAll(async () => {
    await hub?.close();
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const client of made.splice(0)) await client.close();
  });
  return (clientOptions = {}, hubUrl) => {
    if (!hub) throw new Error("the Docker Hub fake starts in beforeAll");
    const client = hubClient(hubUrl ?? hub.hubUrl, clientOptions);
    made.push(client);
    return client;
  };
}

/**
 * Session, client and API over the shared transport without retries or a
 * breaker (so every answer reaches the client as the fake gave it), each
 * request recorded; `send` replaces the network (scripted answers).
 */
export function hubClient(
  hubUrl: string,
  options: {
    login?: HubLogin;
    now?: () => number;
    tracerProvider?: TracerProvider;
    logger?: Logger;
    send?: Handler;
    /** No telemetry for the session (its logins are not traced). */
    untracedSession?: boolean;
  } = {},
): HubTestClient {
  const registry = new Registry({
    credentials: false,
    retry: false,
    circuitBreaker: false,
    ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const ctx = registry.context("docker.io");
  const sent: HttpRequest[] = [];
  const next = options.send ?? ctx.send;
  const send: Handler = (request) => {
    sent.push(request);
    return next(request);
  };
  let calls = 0;
  const session = new HubSession({
    send,
    hubUrl,
    login: async () => {
      calls++;
      return options.login;
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.untracedSession ? {} : { telemetry: ctx.telemetry }),
  });
  const parts = { send, hubUrl, session, telemetry: ctx.telemetry };
  return {
    session,
    client: new HubClient(parts),
    api: new HubApi(parts),
    telemetry: ctx.telemetry,
    sent,
    loginCalls: () => calls,
    close: () => registry.close(),
  };
}

/** A scripted Hub API: `answer` gives status, body and headers for the n-th request (from 1). */
export function scripted(
  answer: (
    request: HttpRequest,
    n: number,
  ) => { status?: number; body: unknown; headers?: Record<string, string> },
): { send: Handler; bodies: Readable[] } {
  let n = 0;
  const bodies: Readable[] = [];
  const send: Handler = async (request): Promise<HttpResponse> => {
    const { status = 200, body, headers = {} } = answer(request, ++n);
    const stream = Readable.from([Buffer.from(typeof body === "string" ? body : JSON.stringify(body))]);
    bodies.push(stream);
    return {
      status,
      headers: { "content-type": "application/json", ...headers },
      body: stream,
      url: request.url,
      request,
    };
  };
  return { send, bodies };
}

/** An unsigned JWT whose payload is `claims` (the client reads `exp` without verifying). */
export function unsignedJwt(claims: unknown): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none" })}.${part(claims)}.sig`;
}
