import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { ConfigurationError, DigestMismatchError, RegkitError } from "../core/errors.js";
import { isStream, openBody } from "./body.js";
import type { Har, HarContent, HarEntry, HarHeader } from "./har.js";
import { redactHeader, redactText, redactUrl } from "./redaction.js";
import type { HttpRequest, HttpResponse, Middleware, RequestBody } from "./types.js";

/**
 * HAR 1.2 cassettes: every HTTP exchange of a run, openable in standard
 * tools. Bodies up to INLINE_LIMIT are inline; larger ones (blobs) live
 * beside the cassette in `<file>.blobs/sha256/<hex>` and are verified by
 * digest when replayed. Credentials never reach the file.
 */
const INLINE_LIMIT = 64 * 1024;

export type { Har, HarEntry };
export { redactText };

/** A replayed request the cassette does not hold; names the nearest recorded one. */
export class ReplayMismatchError extends RegkitError {
  constructor(request: string, nearest: string | undefined) {
    super(
      `no recorded exchange for ${request}${nearest ? `; nearest recorded: ${nearest}` : "; the cassette is empty"}`,
      {
        code: "REPLAY_MISMATCH",
        category: "configuration",
      },
    );
  }
}

/** What replay reads of an entry; zod is loaded only when a cassette is (commands start without it). */
async function replayedEntries() {
  const { z } = await import("zod");
  const header = z.object({ name: z.string(), value: z.string() });
  const replayedEntry = z.looseObject({
    request: z.looseObject({ method: z.string(), url: z.string() }),
    response: z.looseObject({
      status: z.number().int().min(100).max(599),
      headers: z.array(header),
      content: z.looseObject({
        size: z.number().int().min(0),
        text: z.string().optional(),
        _digest: z
          .string()
          .regex(/^sha256:[0-9a-f]{64}$/)
          .optional(),
        _sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .optional(),
      }),
    }),
  });
  return z.array(replayedEntry);
}

/** What identifies a request on replay: method and URL, without who is asking (`account`). */
function matchKey(method: string, url: string): string {
  const copy = new URL(url);
  copy.searchParams.delete("account");
  return `${method} ${copy.href}`;
}

function headerList(headers: Record<string, string | string[] | undefined>): HarHeader[] {
  const list: HarHeader[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) list.push({ name, value: redactHeader(name, v) });
  }
  return list;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** Collects a body: inline while small, spilled to a digest-named file beside the cassette when large. */
class BodySink {
  readonly #blobDir: string;
  #chunks: Buffer[] = [];
  #size = 0;
  #file: { path: string; stream: NodeJS.WritableStream } | undefined;
  readonly #hash = createHash("sha256");

  constructor(blobDir: string) {
    this.#blobDir = blobDir;
  }

  write(chunk: Buffer): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
    if (this.#file) {
      this.#file.stream.write(chunk);
      return;
    }
    this.#chunks.push(chunk);
    if (this.#size > INLINE_LIMIT) {
      const path = join(this.#blobDir, `.tmp-${randomBytes(8).toString("hex")}`);
      const stream = createWriteStream(path);
      for (const c of this.#chunks) stream.write(c);
      this.#chunks = [];
      this.#file = { path, stream };
    }
  }

  async finish(): Promise<{ size: number; text?: string; digest?: string; sha256: string }> {
    const hex = this.#hash.digest("hex");
    if (!this.#file) {
      const text = Buffer.concat(this.#chunks).toString("utf8");
      return { size: this.#size, text, sha256: hex };
    }
    const { path, stream } = this.#file;
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    const final = join(this.#blobDir, hex);
    await rename(path, final);
    return { size: this.#size, digest: `sha256:${hex}`, sha256: hex };
  }
}

/** Records exchanges; call `save()` (the Registry does on close) to write the cassette. */
export class Recorder {
  readonly file: string;
  readonly #entries: Array<Promise<HarEntry>> = [];
  readonly #blobDir: string;

  constructor(file: string) {
    this.file = file;
    this.#blobDir = join(`${file}.blobs`, "sha256");
  }

  middleware(): Middleware {
    return {
      name: "record",
      wrap: (next) => async (request) => {
        await mkdir(this.#blobDir, { recursive: true });
        const started = Date.now();
        const requestSink = new BodySink(this.#blobDir);
        const sent = teeRequestBody(request.body, requestSink);
        const response = await next({ ...request, ...(sent !== undefined ? { body: sent } : {}) });
        const waited = Date.now() - started;
        const responseSink = new BodySink(this.#blobDir);
        const body = new PassThrough({ highWaterMark: 1 << 20 });
        let settle: () => void = () => undefined;
        const done = new Promise<void>((resolve) => {
          settle = resolve;
        });
        response.body.on("data", (chunk: Buffer) => responseSink.write(chunk));
        response.body.once("end", () => settle());
        response.body.once("error", (error) => {
          body.destroy(error);
          settle();
        });
        // A consumer that stops early must still free the connection and let the entry settle.
        body.once("close", () => {
          if (response.body.readableEnded) return;
          response.body.on("error", () => undefined);
          response.body.destroy();
          settle();
        });
        response.body.pipe(body);
        this.#entries.push(
          done.then(async () =>
            entry(
              request,
              response,
              await requestSink.finish(),
              await responseSink.finish(),
              started,
              waited,
            ),
          ),
        );
        return { ...response, body };
      },
    };
  }

  async save(): Promise<void> {
    const entries = await Promise.all(this.#entries);
    const har: Har = { log: { version: "1.2", creator: { name: "regkit", version: "1" }, entries } };
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(temp, `${JSON.stringify(har, null, 2)}\n`);
    await rename(temp, this.file);
  }
}

function teeRequestBody(body: RequestBody | undefined, sink: BodySink): RequestBody | undefined {
  if (body === undefined) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) {
    sink.write(Buffer.from(body));
    return body;
  }
  const tee = (source: Readable) => {
    source.on("data", (chunk: Buffer) => sink.write(chunk));
    return source;
  };
  return typeof body === "function" ? () => tee(body()) : tee(body);
}

function content(
  body: { size: number; text?: string; digest?: string; sha256: string },
  mimeType: string,
): HarContent {
  if (body.digest) return { size: body.size, mimeType, _digest: body.digest };
  const text = redactText(body.text ?? "");
  return { size: body.size, mimeType, text, _sha256: sha256(text) };
}

function entry(
  request: HttpRequest,
  response: HttpResponse,
  sent: { size: number; text?: string; digest?: string; sha256: string },
  received: { size: number; text?: string; digest?: string; sha256: string },
  started: number,
  waited: number,
): HarEntry {
  const url = new URL(redactUrl(request.url));
  const contentType = (h: Record<string, unknown>) => String(h["content-type"] ?? "application/octet-stream");
  return {
    startedDateTime: new Date(started).toISOString(),
    time: Date.now() - started,
    request: {
      method: request.method,
      url: url.href,
      httpVersion: "HTTP/1.1",
      headers: headerList(request.headers),
      queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
      headersSize: -1,
      bodySize: sent.size,
      ...(sent.size > 0
        ? {
            postData: sent.digest
              ? { mimeType: contentType(request.headers), text: "", _digest: sent.digest }
              : { mimeType: contentType(request.headers), text: redactText(sent.text ?? "") },
          }
        : {}),
    },
    response: {
      status: response.status,
      statusText: "",
      httpVersion: "HTTP/1.1",
      headers: headerList(response.headers),
      content: content(received, contentType(response.headers)),
      redirectURL: String(response.headers.location ?? ""),
      headersSize: -1,
      bodySize: received.size,
    },
    cache: {},
    timings: { send: 0, wait: waited, receive: Math.max(0, Date.now() - started - waited) },
  };
}

/** Serves recorded exchanges instead of the network. */
export class Replayer {
  readonly file: string;
  #entries: HarEntry[] = [];
  readonly #used = new Set<number>();
  #loaded: Promise<void> | undefined;

  constructor(file: string) {
    this.file = file;
  }

  /** Reads the cassette once, on the first request. */
  #load(): Promise<void> {
    this.#loaded ??= Replayer.#read(this.file).then((entries) => {
      this.#entries = entries;
    });
    return this.#loaded;
  }

  static async #read(file: string): Promise<HarEntry[]> {
    let har: Har;
    try {
      har = JSON.parse(await readFile(file, "utf8")) as Har;
    } catch (error) {
      throw new ConfigurationError(`cannot read cassette ${file}: ${(error as Error).message}`);
    }
    if (har?.log?.version !== "1.2" || !Array.isArray(har.log.entries)) {
      throw new ConfigurationError(`${file} is not a HAR 1.2 cassette`);
    }
    // What replay reads of each entry is checked once here: a hand-edited or hostile cassette
    // gets one message, and a body reference can only name a file in the blob directory.
    const entries = (await replayedEntries()).safeParse(har.log.entries);
    if (!entries.success) {
      const issue = entries.error.issues[0];
      throw new ConfigurationError(
        `${file}: invalid entry at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "?"}`,
      );
    }
    return har.log.entries;
  }

  middleware(): Middleware {
    return {
      name: "replay",
      wrap: () => async (request) => {
        await this.#load();
        const key = matchKey(request.method, redactUrl(request.url));
        const candidates = this.#entries
          .map((e, i) => ({ e, i }))
          .filter(({ e }) => matchKey(e.request.method, e.request.url) === key);
        const pick = candidates.find(({ i }) => !this.#used.has(i)) ?? candidates.at(-1);
        if (!pick) throw new ReplayMismatchError(key, this.#nearest(key));
        this.#used.add(pick.i);
        await drainRequestBody(request.body);
        return {
          status: pick.e.response.status,
          headers: Object.fromEntries(pick.e.response.headers.map((h) => [h.name, h.value])),
          body: await this.#body(pick.e.response.content),
          url: request.url,
          request,
        };
      },
    };
  }

  async #body(content: HarContent): Promise<Readable> {
    if (content._digest) {
      const path = join(`${this.file}.blobs`, "sha256", content._digest.slice("sha256:".length));
      const size = await stat(path).then(
        (s) => s.size,
        () => -1,
      );
      if (size !== content.size)
        throw new DigestMismatchError(content._digest, `a file of ${size} bytes`, "recorded body");
      const verify = new PassThrough();
      const hash = createHash("sha256");
      const source = createReadStream(path);
      source.on("data", (chunk) => hash.update(chunk));
      source.on("end", () => {
        const actual = `sha256:${hash.digest("hex")}`;
        if (actual !== content._digest)
          verify.destroy(new DigestMismatchError(content._digest!, actual, "recorded body"));
      });
      return source.pipe(verify);
    }
    const text = content.text ?? "";
    if (content._sha256 && sha256(text) !== content._sha256) {
      throw new DigestMismatchError(`sha256:${content._sha256}`, `sha256:${sha256(text)}`, "recorded body");
    }
    return Readable.from([Buffer.from(text)]);
  }

  #nearest(key: string): string | undefined {
    let best: { key: string; score: number } | undefined;
    for (const e of this.#entries) {
      const candidate = matchKey(e.request.method, e.request.url);
      let score = 0;
      while (score < key.length && key[score] === candidate[score]) score++;
      if (!best || score > best.score) best = { key: candidate, score };
    }
    return best?.key;
  }
}

async function drainRequestBody(body: RequestBody | undefined): Promise<void> {
  const opened = openBody(body);
  if (isStream(opened)) {
    for await (const _ of opened) {
      // the replayed "server" reads the body as a real one would
    }
  }
}

/** Removes a cassette and its blob directory. */
export async function removeCassette(file: string): Promise<void> {
  await rm(file, { force: true });
  await rm(`${file}.blobs`, { recursive: true, force: true });
}
