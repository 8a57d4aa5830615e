import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { OAuth2Client } from "google-auth-library";
import { afterEach, describe, expect, it } from "vitest";
import { WebhookReceiver } from "../webhooks/receiver.js";
import {
  type GarNotificationEvent,
  garEventLine,
  garWebhookParser,
  idTokenVerifier,
  parseGarNotificationData,
  parseGarPushBody,
} from "./notifications.js";

const AUDIENCE = "https://hooks.example.com/gar";
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const CERTS = { "test-kid": publicKey.export({ type: "spki", format: "pem" }).toString() };
const DATA = {
  action: "INSERT",
  digest:
    "us-east1-docker.pkg.dev/my-project/my-repo/hello-world@sha256:6ec128e26cd5ed3e2ce0ac1d6d5e8e0a7a1e2a37e5b4f6f7c0b1ef5a3e4b6c91",
  tag: "us-east1-docker.pkg.dev/my-project/my-repo/hello-world:1.1",
};

function idToken(claims: Record<string, unknown>, key: KeyObject = privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const segment = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const body = `${segment({ alg: "RS256", kid: "test-kid", typ: "JWT" })}.${segment({
    iss: "https://accounts.google.com",
    aud: AUDIENCE,
    iat: now,
    exp: now + 3600,
    email: "push@my-project.iam.gserviceaccount.com",
    ...claims,
  })}`;
  return `${body}.${sign("RSA-SHA256", Buffer.from(body), key).toString("base64url")}`;
}

const envelope = (data: unknown) =>
  JSON.stringify({
    message: {
      data: Buffer.from(JSON.stringify(data)).toString("base64"),
      messageId: "136969346945",
      publishTime: "2026-11-29T14:00:00Z",
      attributes: {},
    },
    subscription: "projects/my-project/subscriptions/gcr-push",
  });

const receivers: WebhookReceiver<GarNotificationEvent>[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function serve(): Promise<{ url: string; events: GarNotificationEvent[] }> {
  const verify = idTokenVerifier(new OAuth2Client(), AUDIENCE, async () => CERTS);
  const receiver = new WebhookReceiver({ parser: garWebhookParser(verify) });
  receivers.push(receiver);
  const events: GarNotificationEvent[] = [];
  receiver.on("event", (e) => events.push(e));
  return { url: await receiver.listen({ port: 0 }), events };
}

const post = (url: string, body: string, token?: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });

describe("Artifact Registry notifications", () => {
  it("parses the documented message data (INSERT with digest and tag; tag absent when none)", () => {
    expect(garEventLine(parseGarNotificationData(DATA))).toEqual({
      provider: "gar",
      type: "insert",
      image: "us-east1-docker.pkg.dev/my-project/my-repo/hello-world",
      location: "us-east1",
      digest: DATA.digest.slice(DATA.digest.indexOf("@") + 1),
      tag: "1.1",
    });
    const deleted = parseGarNotificationData({ action: "DELETE", digest: DATA.digest });
    expect(deleted).toMatchObject({ type: "delete", tag: undefined });
  });

  it("reads the Pub/Sub push envelope (pull form: the same data)", () => {
    const event = parseGarPushBody(Buffer.from(envelope(DATA)));
    expect(event).toMatchObject({
      messageId: "136969346945",
      publishTime: "2026-11-29T14:00:00Z",
      tag: "1.1",
    });
  });

  it("refuses malformed notifications with a clear reason", () => {
    expect(() => parseGarPushBody(Buffer.from("{}"))).toThrow(/no message/);
    expect(() => parseGarPushBody(Buffer.from(JSON.stringify({ message: { data: "!!" } })))).toThrow(
      /not base64/,
    );
    expect(() => parseGarNotificationData({ action: "UPDATE", digest: DATA.digest })).toThrow(
      /INSERT or DELETE/,
    );
    expect(() => parseGarNotificationData({ action: "INSERT", tag: "ghcr.io/a/b:1" })).toThrow(
      /not an Artifact Registry image/,
    );
  });

  it("push with a valid OIDC token for the audience is accepted; wrong audience, no token or a foreign key get 401", async () => {
    const { url, events } = await serve();
    expect((await post(url, envelope(DATA), idToken({}))).status).toBe(200);
    expect(events).toHaveLength(1);
    expect((await post(url, envelope(DATA), idToken({ aud: "https://elsewhere.example.com" }))).status).toBe(
      401,
    );
    expect((await post(url, envelope(DATA))).status).toBe(401);
    const foreign = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    expect((await post(url, envelope(DATA), idToken({}, foreign))).status).toBe(401);
    expect((await post(url, envelope(DATA), idToken({ iss: "https://evil.example.com" }))).status).toBe(401);
    const malformed = await post(url, JSON.stringify({ message: { data: "e30=" } }), idToken({}));
    expect(malformed.status).toBe(400);
    expect(events).toHaveLength(1);
  });
});
