import { request } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebhookPayloadError } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import { type WebhookEvent, type WebhookParser, WebhookReceiver } from "./receiver.js";
import { sign } from "./signature.js";

interface TestEvent extends WebhookEvent {
  n: number;
}

/** Accepts `{"n": <number>}`; anything else is a payload error. */
const parser: WebhookParser<TestEvent> = {
  provider: "test",
  parse(body) {
    const value = JSON.parse(body.toString("utf8")) as { n?: unknown };
    if (typeof value?.n !== "number") throw new WebhookPayloadError("n: missing");
    return { provider: "test", type: "ping", n: value.n };
  },
};

const receivers: WebhookReceiver<TestEvent>[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function start(options: Partial<ConstructorParameters<typeof WebhookReceiver<TestEvent>>[0]> = {}) {
  const receiver = new WebhookReceiver<TestEvent>({ parser, ...options });
  receivers.push(receiver);
  const seen: TestEvent[] = [];
  receiver.on("event", (event) => seen.push(event));
  const url = await receiver.listen({ port: 0 });
  return { receiver, url, seen };
}

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

describe("WebhookReceiver", () => {
  it("answers 200 and dispatches to listeners and to the async iterator", async () => {
    const { receiver, url, seen } = await start({ path: "/hooks/hub" });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hooks\/hub$/);
    const events = receiver.events();
    const response = await post(url, '{"n":1}', { "content-type": "application/json; charset=utf-8" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "accepted" });
    expect(seen).toEqual([{ provider: "test", type: "ping", n: 1 }]);
    expect((await events.next()).value).toEqual({ provider: "test", type: "ping", n: 1 });
    expect(receiver.stats).toEqual({ accepted: 1, rejected: 0 });
  });

  it("answers 400 with a short JSON error and dispatches nothing for a bad payload", async () => {
    const { receiver, url, seen } = await start();
    const response = await post(url, '{"m":1}');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "n: missing" });
    expect(seen).toEqual([]);
    expect(receiver.stats).toEqual({ accepted: 0, rejected: 1 });
  });

  it("answers 500 without details when a parser fails with something other than a RegkitError", async () => {
    const { url, seen } = await start();
    const response = await post(url, "not json");
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "internal error" });
    expect(seen).toEqual([]);
  });

  it("with a secret, answers 401 to unsigned and wrongly signed requests and accepts signed ones", async () => {
    const secret = new SecretString("s3cret");
    const { receiver, url, seen } = await start({ secret });
    const rejected: number[] = [];
    receiver.on("rejected", ({ status }) => rejected.push(status));
    const unsigned = await post(url, '{"n":1}');
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: "missing X-Hub-Signature-256 header" });
    const wrong = await post(url, '{"n":2}', { "x-hub-signature-256": sign('{"n":3}', secret) });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("s3cret");
    expect(seen).toEqual([]);
    const signed = await post(url, '{"n":4}', { "x-hub-signature-256": sign('{"n":4}', secret) });
    expect(signed.status).toBe(200);
    expect(seen.map((e) => e.n)).toEqual([4]);
    expect(rejected).toEqual([401, 401]);
  });

  it("answers 413 to a body over the cap, declared or streamed, and dispatches nothing", async () => {
    const { receiver, url, seen } = await start({ maxBodyBytes: 64 });
    const big = JSON.stringify({ n: 1, pad: "x".repeat(100) });
    const declared = await post(url, big);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ error: "webhook body exceeds the limit of 64 bytes" });
    const chunked = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Blob([big]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(seen).toEqual([]);
    const exact = JSON.stringify({ n: 2, pad: "x".repeat(64 - 16) });
    expect(exact.length).toBe(64);
    expect((await post(url, exact)).status).toBe(200);
    expect(receiver.stats).toEqual({ accepted: 1, rejected: 2 });
  });

  it("answers 413 to an endless body without waiting for its end", async () => {
    const { receiver, url, seen } = await start({ maxBodyBytes: 1024 });
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: "POST", headers: { "content-type": "application/json" } });
      req.on("response", (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = () => {
        while (!req.destroyed && sent < 1024 ** 3) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
      };
      pump();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(1024 ** 3);
    expect(seen).toEqual([]);
    expect(receiver.stats.rejected).toBe(1);
  });

  it("answers 404, 405 and 415 for the wrong path, method and content type", async () => {
    const { url, seen } = await start({ path: "/hook" });
    const origin = new URL(url).origin;
    expect((await post(`${origin}/other`, '{"n":1}')).status).toBe(404);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await post(url, '{"n":1}', { "content-type": "text/plain" })).status).toBe(415);
    expect((await post(url, '{"n":1}', { "content-type": "application/jsonp" })).status).toBe(415);
    expect((await post(`${url}?x=1`, '{"n":1}')).status).toBe(200);
    expect(seen.map((e) => e.n)).toEqual([1]);
  });

  it("delivers concurrent posts in the order they were accepted", async () => {
    const { receiver, url, seen } = await start();
    const events = receiver.events();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, n) => post(url, JSON.stringify({ n }))),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(seen.map((e) => e.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    await receiver.close();
    const iterated: number[] = [];
    for await (const event of events) iterated.push(event.n);
    expect(iterated).toEqual(seen.map((e) => e.n));
  });

  it("ends the iterator on close, also for iterators asked for afterwards", async () => {
    const { receiver } = await start();
    const events = receiver.events();
    const pending = events.next();
    await receiver.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await receiver.events().next()).toEqual({ done: true, value: undefined });
  });

  it("drops a client that stalls in the middle of its body", async () => {
    const { url, seen } = await start({ timeoutMs: 300 });
    const { port } = new URL(url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(
          "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
        );
      });
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(seen).toEqual([]);
  });

  it("closes keep-alive connections on close()", async () => {
    const { receiver, url } = await start();
    expect((await post(url, '{"n":1}')).status).toBe(200);
    const started = Date.now();
    await receiver.close();
    // Generous: a close that waited for the idle connection would take the keep-alive timeout (4-5 s).
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(post(url, '{"n":2}')).rejects.toThrow();
  });

  it("reports a throwing listener without failing the delivery", async () => {
    const { receiver, url } = await start();
    const errors: unknown[] = [];
    receiver.on("event", () => {
      throw new Error("listener bug");
    });
    receiver.on("dispatchError", (error) => errors.push(error));
    expect((await post(url, '{"n":1}')).status).toBe(200);
    expect(errors).toEqual([new Error("listener bug")]);
  });
});
