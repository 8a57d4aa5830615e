/**
 * Authentication against real registries: the CNCF distribution registry
 * with htpasswd over TLS and with token auth (regkit's embedded token server
 * as the issuer), and regkit's embedded registry in basic and token modes.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, staticCredentials } from "../src/auth/index.js";
import { digestOf } from "../src/core/digest.js";
import { isRegkitError } from "../src/core/errors.js";
import { SecretString } from "../src/core/secret.js";
import { Registry, type RegistryOptions } from "../src/registry/registry.js";
import { generateIndex } from "../src/sim/images.js";
import { type AuthTarget, PASSWORD, startAuthTargets, USER } from "./support/authTargets.js";

function client(target: AuthTarget, password = PASSWORD, extra: Partial<RegistryOptions> = {}): Registry {
  return new Registry({
    credentials: staticCredentials({ [target.host]: basic(USER, password) }),
    ...(target.ca ? { ca: target.ca } : {}),
    ...extra,
  });
}

let targets: AuthTarget[] = [];
beforeAll(async () => {
  targets = await startAuthTargets();
});
afterAll(async () => {
  for (const target of targets) await target.stop();
});

const names = ["distribution htpasswd+TLS", "distribution token", "embedded basic", "embedded token"];
/** An error's message with every cause's, as `-v` prints them. */
function chain(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join(" <- ");
}

describe.each(names)("auth against %s", (name) => {
  const target = () => targets.find((t) => t.name === name)!;

  it("runs the client suite with credentials: push, read, list, catalog, delete", async () => {
    const registry = client(target());
    try {
      const repo = registry.repository(target().host, `auth/${randomBytes(3).toString("hex")}`);
      const content = await generateIndex({
        seed: `auth-${name}`,
        platforms: ["linux/amd64", "linux/arm64/v8"],
      });
      for (const image of content.images) {
        for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
        await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
      }
      await repo.manifests.put("v1", content.index.bytes, content.index.mediaType);
      expect((await repo.manifests.fetch("v1")).bytes.equals(content.index.bytes)).toBe(true);
      expect(await repo.tags().all()).toEqual(["v1"]);
      expect(await registry.catalog(target().host).all()).toContain(repo.name);
      const chunked = randomBytes(200_000);
      const up = await repo.uploads.upload(chunked, {}, { chunkSize: 64 * 1024 });
      expect(up.descriptor.digest).toBe(digestOf(chunked));
      await repo.manifests.delete(content.index.digest);
      expect(await repo.manifests.exists(content.index.digest)).toBe(false);
    } finally {
      await registry.close();
    }
  });

  it("authenticates concurrent requests once: one credential lookup, and one token per scope where tokens are used", async () => {
    const before = target().tokenRequests?.();
    const provider = staticCredentials({ [target().host]: basic(USER, PASSWORD) });
    let lookups = 0;
    const tokenScopes: string[][] = [];
    const registry = client(target(), PASSWORD, {
      credentials: {
        name: provider.name,
        resolve: (t) => {
          lookups++;
          return provider.resolve(t);
        },
      },
      onTokenRequest: ({ scopes }) => tokenScopes.push(scopes),
    });
    try {
      const repo = registry.repository(target().host, `tokens/${randomBytes(3).toString("hex")}`);
      const blobs = Array.from({ length: 24 }, () => randomBytes(5000));
      for (let i = 0; i < blobs.length; i += 8) {
        await Promise.all(
          blobs.slice(i, i + 8).map((b) => repo.uploads.upload(b, { digest: digestOf(b), size: b.length })),
        );
      }
      expect(await Promise.all(blobs.map((b) => repo.blobs.exists(digestOf(b))))).toEqual(
        Array(blobs.length).fill(true),
      );
      expect(lookups).toBe(1);
      if (target().tokenRequests) {
        // One `repository:NAME:pull,push` token serves every upload and, covering pull, every read.
        expect(tokenScopes).toEqual([[`repository:${repo.name}:pull,push`]]);
        expect(target().tokenRequests!() - before!).toBe(1);
      } else {
        // Basic registries get the credentials directly: no token is ever asked for.
        expect(name).toMatch(/htpasswd|basic/);
        expect(tokenScopes).toEqual([]);
      }
    } finally {
      await registry.close();
    }
  });

  it("a wrong password is an authentication error naming the registry", async () => {
    const registry = client(target(), "not-the-password");
    try {
      const error = await registry
        .repository(target().host, "auth/x")
        .manifests.get("v1")
        .catch((e: unknown) => e);
      expect(isRegkitError(error) && error.category).toBe("authentication");
      expect((error as Error).message).toContain(target().host);
      expect(chain(error)).not.toContain("not-the-password");
    } finally {
      await registry.close();
    }
  });

  it("anonymous access is refused with an authentication error", async () => {
    const registry = new Registry({ credentials: false, ...(target().ca ? { ca: target().ca! } : {}) });
    try {
      const error = await registry
        .repository(target().host, "auth/x")
        .tags()
        .all()
        .catch((e: unknown) => e);
      expect(isRegkitError(error) && error.category).toBe("authentication");
      expect((error as Error).message).toContain(target().host);
    } finally {
      await registry.close();
    }
  });
});

describe.each(["distribution token", "embedded token"])("identity tokens against %s", (name) => {
  it("uses the OAuth2 refresh_token grant when an identity token is held", async () => {
    const target = targets.find((t) => t.name === name)!;
    // What `docker login` keeps: a refresh token from the password grant with access_type=offline.
    const form = new URLSearchParams({
      grant_type: "password",
      username: USER,
      password: PASSWORD,
      service: "x",
      client_id: "test",
      access_type: "offline",
    });
    const response = await fetch(target.realm!, { method: "POST", body: form });
    const { refresh_token } = (await response.json()) as { refresh_token: string };
    expect(refresh_token).toBeTruthy();
    const registry = new Registry({
      credentials: staticCredentials({
        [target.host]: { kind: "identity-token", token: new SecretString(refresh_token) },
      }),
    });
    try {
      const repo = registry.repository(target.host, `identity/${randomBytes(3).toString("hex")}`);
      const bytes = randomBytes(100);
      await repo.uploads.upload(bytes, { digest: digestOf(bytes), size: bytes.length });
      expect(await repo.blobs.exists(digestOf(bytes))).toBe(true);
    } finally {
      await registry.close();
    }
    const bad = new Registry({
      credentials: staticCredentials({
        [target.host]: { kind: "identity-token", token: new SecretString("revoked") },
      }),
    });
    const error = await bad
      .repository(target.host, "identity/x")
      .tags()
      .all()
      .catch((e: unknown) => e);
    expect(isRegkitError(error) && error.category).toBe("authentication");
    await bad.close();
  });
});
