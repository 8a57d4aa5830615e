import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Har, Recorder, Replayer, redactText } from "./cassette.js";
import { readText } from "./response.js";
import type { HttpRequest, HttpResponse } from "./types.js";

/** Every secret below is unique, so finding any of them anywhere in the cassette is a leak. */
const SECRETS = {
  authorization: "Bearer eyJhbGciOi.header-jwt.sig",
  proxy: "Basic cHJveHk6c2VjcmV0LXByb3h5",
  cookie: "session=cookie-secret-1",
  setCookie: "session=cookie-secret-2; HttpOnly",
  queryToken: "query-token-3",
  queryAccess: "query-access-4",
  queryRefresh: "query-refresh-5",
  queryPassword: "query-password-6",
  queryClient: "query-client-secret-7",
  formPassword: "form-password-8",
  formRefresh: "form-refresh-9",
  formAccess: "form-access-10",
  formToken: "form-token-11",
  jsonToken: "json-token-12",
  jsonAccess: "json-access-13",
  jsonRefresh: "json-refresh-14",
  json2fa: "json-2fa-15",
  jsonPassword: "json-password-16",
  jsonIdentity: "json-identity-17",
  jsonSecret: 'json-\\"quoted\\"-secret-18',
};

/** A token realm and Hub login answering with secrets in headers and JSON. */
async function server(request: HttpRequest): Promise<HttpResponse> {
  const body = JSON.stringify({
    token: SECRETS.jsonToken,
    access_token: SECRETS.jsonAccess,
    refresh_token: SECRETS.jsonRefresh,
    login_2fa_token: SECRETS.json2fa,
    expires_in: 300,
    issued_at: "2026-01-01T00:00:00Z",
  });
  return {
    status: 200,
    headers: { "content-type": "application/json", "set-cookie": [SECRETS.setCookie, "b=2"] },
    body: Readable.from([Buffer.from(body)]),
    url: request.url,
    request,
  };
}

const requests: HttpRequest[] = [
  {
    method: "GET",
    url: new URL(
      `https://auth.test/token?service=registry.test&scope=repository%3Aa%3Apull&token=${SECRETS.queryToken}&access_token=${SECRETS.queryAccess}&refresh_token=${SECRETS.queryRefresh}&password=${SECRETS.queryPassword}&client_secret=${SECRETS.queryClient}&tokenizer=kept&my_password=kept`,
    ),
    headers: {
      "x-absent": undefined as unknown as string,
      authorization: SECRETS.authorization,
      "proxy-authorization": SECRETS.proxy,
      cookie: SECRETS.cookie,
      accept: "application/json",
    },
  },
  {
    // OAuth2 password grant (docker login with access_type=offline).
    method: "POST",
    url: new URL("https://auth.test/token"),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `grant_type=password&username=alice&password=${SECRETS.formPassword}&service=registry.test&client_id=regkit&access_type=offline`,
  },
  {
    // OAuth2 refresh_token grant (an identity token held), with the other fields in the middle.
    method: "POST",
    url: new URL("https://auth.test/token"),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `refresh_token=${SECRETS.formRefresh}&grant_type=refresh_token&access_token=${SECRETS.formAccess}&token=${SECRETS.formToken}&scope=repository%3Aa%3Apull`,
  },
  {
    // Docker Hub login: JSON with the password (or PAT) as `secret`.
    method: "POST",
    url: new URL("https://hub.test/v2/auth/token"),
    headers: { "content-type": "application/json" },
    body: `{"identifier":"alice","secret":"${SECRETS.jsonSecret}","password" : "${SECRETS.jsonPassword}","identitytoken":"${SECRETS.jsonIdentity}"}`,
  },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-cassette-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Records the requests into a fresh cassette, inside the test (so mutation testing sees it run). */
async function record(): Promise<{ file: string; text: string; har: Har }> {
  const file = join(dir, `${randomUUID()}.har`);
  const recorder = new Recorder(file);
  const send = recorder.middleware().wrap(server);
  for (const request of requests) await readText(await send(request), 1 << 20);
  await recorder.save();
  const text = await readFile(file, "utf8");
  return { file, text, har: JSON.parse(text) as Har };
}

describe("cassette redaction", () => {
  it.each(Object.entries(SECRETS))("never writes the %s secret", async (_name, secret) => {
    const { text } = await record();
    const bare = secret.replaceAll('\\"', '"');
    expect(text).not.toContain(bare);
    expect(text).not.toContain(encodeURIComponent(bare));
  });

  it("redacts credential headers of requests and responses, keeping the others", async () => {
    const { har } = await record();
    const [first] = har.log.entries;
    // A header without a value is left out, not written as an empty entry.
    expect(first!.request.headers.map((h) => h.name)).toEqual([
      "authorization",
      "proxy-authorization",
      "cookie",
      "accept",
    ]);
    const headers = Object.fromEntries(first!.request.headers.map((h) => [h.name, h.value]));
    expect(headers).toEqual({
      authorization: "[REDACTED]",
      "proxy-authorization": "[REDACTED]",
      cookie: "[REDACTED]",
      accept: "application/json",
    });
    expect(first!.response.headers).toEqual([
      { name: "content-type", value: "application/json" },
      { name: "set-cookie", value: "[REDACTED]" },
      { name: "set-cookie", value: "[REDACTED]" },
    ]);
  });

  it("redacts secret query parameters in the URL and the query list, keeping the others", async () => {
    const { har } = await record();
    const [first] = har.log.entries;
    const url = new URL(first!.request.url);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      service: "registry.test",
      scope: "repository:a:pull",
      token: "[REDACTED]",
      access_token: "[REDACTED]",
      refresh_token: "[REDACTED]",
      password: "[REDACTED]",
      client_secret: "[REDACTED]",
      tokenizer: "kept",
      my_password: "kept",
    });
    expect(first!.request.queryString).toEqual(
      [...url.searchParams].map(([name, value]) => ({ name, value })),
    );
  });

  it("redacts the OAuth2 password and refresh_token grants' form fields", async () => {
    const { har } = await record();
    const password = new URLSearchParams(har.log.entries[1]!.request.postData!.text);
    expect(Object.fromEntries(password)).toEqual({
      grant_type: "password",
      username: "alice",
      password: "[REDACTED]",
      service: "registry.test",
      client_id: "regkit",
      access_type: "offline",
    });
    const refresh = new URLSearchParams(har.log.entries[2]!.request.postData!.text);
    expect(Object.fromEntries(refresh)).toEqual({
      refresh_token: "[REDACTED]",
      grant_type: "refresh_token",
      access_token: "[REDACTED]",
      token: "[REDACTED]",
      scope: "repository:a:pull",
    });
  });

  it("redacts secret fields of JSON request and response bodies, keeping the JSON valid", async () => {
    const { har } = await record();
    expect(JSON.parse(har.log.entries[3]!.request.postData!.text)).toEqual({
      identifier: "alice",
      secret: "[REDACTED]",
      password: "[REDACTED]",
      identitytoken: "[REDACTED]",
    });
    expect(JSON.parse(har.log.entries[0]!.response.content.text!)).toEqual({
      token: "[REDACTED]",
      access_token: "[REDACTED]",
      refresh_token: "[REDACTED]",
      login_2fa_token: "[REDACTED]",
      expires_in: 300,
      issued_at: "2026-01-01T00:00:00Z",
    });
  });

  it("replays a request whose URL carried secrets (matched on the redacted URL)", async () => {
    const { file } = await record();
    const send = new Replayer(file).middleware().wrap(server);
    const response = await send(requests[0]!);
    expect(response.status).toBe(200);
    expect(JSON.parse(await readText(response, 1 << 20))).toMatchObject({ token: "[REDACTED]" });
  });
});

describe("redactText", () => {
  it.each([
    ['{"Password":"x"}', '{"Password":"[REDACTED]"}'],
    ['{"token": "a\\"b"}', '{"token": "[REDACTED]"}'],
    ['{"tokens":"kept","secretary":"kept"}', '{"tokens":"kept","secretary":"kept"}'],
    ["password=x&user=y", "password=[REDACTED]&user=y"],
    ["user=y&PASSWORD=x", "user=y&PASSWORD=[REDACTED]"],
    ["my_password=kept&passwords=kept", "my_password=kept&passwords=kept"],
    ["plain text with password in it", "plain text with password in it"],
  ])("%s → %s", (input, output) => {
    expect(redactText(input)).toBe(output);
  });
});
