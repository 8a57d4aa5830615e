import type { Context, MiddlewareHandler } from "hono";
import { digestOf, isDigest } from "../core/digest.js";
import { UsageError } from "../core/errors.js";
import { MAX_MANIFEST_BYTES } from "../core/limits.js";
import { storeGzipBomb } from "./gzipBomb.js";
import { concat, endless, invert, mapChunks, streamOf, trickle } from "./hostileBodies.js";
import type { RegistryStorage } from "./storage.js";

/**
 * Hostile mode of the embedded registry: what a compromised or broken
 * registry does to its clients, one switchable behaviour per kind, so a test
 * (or a person with `regkit serve --hostile KIND`) can check that regkit ends
 * each with its typed error and leaves nothing partial behind. Faults
 * (`faults.ts`) model an unreliable network; these model a registry that lies.
 */
export const HOSTILE_KINDS = [
  /** Blob GETs serve other bytes (same length) than the digest names. */
  "wrong-blob-bytes",
  /** Manifest GETs by digest serve other bytes than the digest names. */
  "wrong-manifest-bytes",
  /** Manifest GETs by tag serve a body that does not match their `Docker-Content-Digest`. */
  "manifest-digest-mismatch",
  /** Manifest GETs serve a body over the 4 MiB cap, with Content-Length. */
  "oversized-manifest",
  /** The same without Content-Length (chunked), so only counting the bytes finds it. */
  "oversized-manifest-chunked",
  /** Blob and manifest GETs never end: the content, then zeros (no Content-Length). */
  "endless-body",
  /** Blob and manifest GETs send their headers, then one byte every `slowLorisIntervalMs`. */
  "slow-loris",
  /** An upload's POST answers with a `Location` on another host. */
  "foreign-upload-location",
  /** Blob GETs answer 307 to another host. */
  "foreign-blob-redirect",
  /** Bearer challenges name a token realm on another host. */
  "foreign-token-realm",
  /** Bearer challenges name a token realm on plain HTTP (meant for a registry served over HTTPS). */
  "plain-http-realm",
  /** Tag and catalog listings link to the page just served again (under a new URL each time). */
  "looping-link",
  /** Digests with path characters: in manifests (by tag), upload `Location`s and `Link`s. */
  "path-digests",
  /** The registry holds `hostile/bomb:v1`, whose one layer is 2 MiB of gzip that inflates to 2 GiB. */
  "gzip-bomb",
] as const;

export type HostileKind = (typeof HOSTILE_KINDS)[number];

export interface HostileOptions {
  kinds: readonly HostileKind[];
  /**
   * Where the `foreign-*` kinds send clients (`http://127.0.0.1:PORT`). By
   * default the same server under its other loopback name (`localhost` for
   * `127.0.0.1` and back): another host to the client, served by the same registry.
   */
  foreignOrigin?: string;
  /** Pause between the bytes of a `slow-loris` body (default 2000 ms). */
  slowLorisIntervalMs?: number;
}

/** What `createRegistryApp({ hostile })` takes: kinds, `"kind,kind"` (the CLI's form), or options. */
export type HostileSpec = readonly HostileKind[] | string | HostileOptions;

/** One request as the hostile registry saw it: enough to prove credentials did not travel. */
export interface SeenRequest {
  method: string;
  /** `host:port` the client addressed. */
  host: string;
  path: string;
  /** Whether it carried an `Authorization` header (the value is never kept). */
  authorization: boolean;
}

/** Paths with path characters where a digest belongs; `%2F` and `..` both. */
export const PATH_DIGESTS = ["sha256:../../../../etc/passwd", "sha256:..%2F..%2F..%2Fhostile"] as const;

/** Marks URLs the hostile registry handed out for the other host, so it does not redirect them again. */
const FOREIGN_MARK = "hostile-foreign";

const BLOB = /^\/v2\/.+\/blobs\/(?!uploads(?:\/|$))[^/]+$/;
const MANIFEST = /^\/v2\/.+\/manifests\/([^/]+)$/;
const UPLOAD_START = /^\/v2\/(.+)\/blobs\/uploads\/?$/;
const LISTING = /^\/v2\/(?:_catalog|.+\/tags\/list)$/;

/** Parses `--hostile KIND[,KIND]`; an unknown kind is a configuration error naming the known ones. */
export function parseHostile(spec: string): HostileKind[] {
  const kinds = checkedKinds(
    spec
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean),
  );
  if (kinds.length === 0) throw new UsageError("--hostile needs at least one behaviour");
  return kinds;
}

function checkedKinds(kinds: readonly string[]): HostileKind[] {
  for (const kind of kinds) {
    if (!(HOSTILE_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(
        `unknown hostile behaviour ${JSON.stringify(kind.slice(0, 64))}; known: ${HOSTILE_KINDS.join(", ")}`,
      );
    }
  }
  return [...kinds] as HostileKind[];
}

/** Options from any spec form; an empty kind list only records requests (a witness server). */
export function hostileOptions(spec: HostileSpec): HostileOptions {
  if (typeof spec === "string") return { kinds: parseHostile(spec) };
  if (Array.isArray(spec)) return { kinds: checkedKinds(spec as readonly string[]) };
  const options = spec as HostileOptions;
  return { ...options, kinds: checkedKinds(options.kinds) };
}

/** The other loopback name of the same server: a different host to the client. */
export function aliasOrigin(url: URL): string {
  const other = url.hostname === "localhost" ? "127.0.0.1" : "localhost";
  return `${url.protocol}//${other}${url.port ? `:${url.port}` : ""}`;
}

export class HostileMode {
  readonly kinds: ReadonlySet<HostileKind>;
  /** Every request, in order: host addressed and whether credentials came with it. */
  readonly seen: SeenRequest[] = [];
  readonly #foreignOrigin: string | undefined;
  readonly #interval: number;
  #loop = 0;
  readonly #ready: Promise<void> | undefined;

  constructor(spec: HostileSpec, storage?: RegistryStorage) {
    const options = hostileOptions(spec);
    this.kinds = new Set(options.kinds);
    this.#ready = this.kinds.has("gzip-bomb") && storage ? storeGzipBomb(storage) : undefined;
    // Awaited by every request; this only keeps a failure from being an unhandled rejection first.
    this.#ready?.catch(() => undefined);
    this.#foreignOrigin = options.foreignOrigin?.replace(/\/+$/, "");
    this.#interval = options.slowLorisIntervalMs ?? 2000;
  }

  has(kind: HostileKind): boolean {
    return this.kinds.has(kind);
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      await this.#ready;
      const url = new URL(c.req.url);
      this.seen.push({
        method: c.req.method,
        host: url.host,
        path: url.pathname,
        authorization: c.req.header("authorization") !== undefined,
      });
      const foreign = this.#foreignOrigin ?? aliasOrigin(url);
      const arrivedForeign = url.searchParams.has(FOREIGN_MARK);
      const path = url.pathname;
      if (c.req.method === "GET" && BLOB.test(path) && this.has("foreign-blob-redirect") && !arrivedForeign) {
        return c.body(null, 307, { location: `${foreign}${path}?${FOREIGN_MARK}=1` });
      }
      await next();
      const status = c.res.status;
      if (status === 401) return this.#challenge(c, url, foreign);
      if (c.req.method === "POST" && status === 202 && UPLOAD_START.test(path))
        return this.#location(c, foreign);
      if (c.req.method !== "GET" || (status !== 200 && status !== 206)) return;
      if (BLOB.test(path)) return this.#blob(c);
      const manifest = MANIFEST.exec(path);
      if (manifest) return this.#manifest(c, manifest[1] ?? "");
      if (LISTING.test(path)) return this.#listing(c, url);
    };
  }

  #replace(
    c: Context,
    body: ConstructorParameters<typeof Response>[0],
    change: (headers: Headers) => void,
  ): void {
    const headers = new Headers(c.res.headers);
    change(headers);
    const status = c.res.status;
    // Hono merges the old response's headers into a new one unless it is cleared first.
    c.res = undefined;
    c.res = new Response(body, { status, headers });
  }

  #challenge(c: Context, url: URL, foreign: string): void {
    const header = c.res.headers.get("www-authenticate");
    if (!header) return;
    let realm: string | undefined;
    if (this.has("foreign-token-realm")) realm = `${foreign}/token`;
    if (this.has("plain-http-realm")) realm = `http://${url.host}/token`;
    if (!realm) return;
    const changed = header.replace(/realm="[^"]*"/, `realm="${realm}"`);
    this.#replace(c, c.res.body, (h) => h.set("www-authenticate", changed));
  }

  #location(c: Context, foreign: string): void {
    const location = c.res.headers.get("location");
    if (!location) return;
    const name = UPLOAD_START.exec(new URL(c.req.url).pathname)?.[1] ?? "";
    let target: string | undefined;
    if (this.has("foreign-upload-location")) {
      const local = new URL(location, c.req.url);
      local.searchParams.set(FOREIGN_MARK, "1");
      target = `${foreign}${local.pathname}${local.search}`;
    }
    if (this.has("path-digests")) target = `/v2/${name}/blobs/uploads/${PATH_DIGESTS[1]}`;
    if (target) this.#replace(c, c.res.body, (h) => h.set("location", target));
  }

  #blob(c: Context): void {
    const body = c.res.body;
    if (!body) return;
    if (this.has("wrong-blob-bytes")) {
      this.#replace(c, mapChunks(body, invert), () => {});
    } else if (this.has("endless-body")) {
      this.#replace(c, endless(body, 0), (h) => h.delete("content-length"));
    } else if (this.has("slow-loris")) {
      this.#replace(c, trickle(body, this.#interval), () => {});
    }
  }

  async #manifest(c: Context, reference: string): Promise<void> {
    const byDigest = isDigest(reference);
    const kinds = this.kinds;
    if (
      !(
        (byDigest && kinds.has("wrong-manifest-bytes")) ||
        (!byDigest && (kinds.has("manifest-digest-mismatch") || kinds.has("path-digests"))) ||
        kinds.has("oversized-manifest") ||
        kinds.has("oversized-manifest-chunked") ||
        kinds.has("endless-body") ||
        kinds.has("slow-loris")
      )
    )
      return;
    const bytes = new Uint8Array(await c.res.arrayBuffer());
    const length = (b: Uint8Array) => (h: Headers) => h.set("content-length", String(b.byteLength));
    if (
      (byDigest && kinds.has("wrong-manifest-bytes")) ||
      (!byDigest && kinds.has("manifest-digest-mismatch"))
    ) {
      // Still valid JSON, still the same manifest to a parser: only the digest tells.
      const other = concat(bytes, new TextEncoder().encode("\n"));
      this.#replace(c, other, length(other));
    } else if (!byDigest && kinds.has("path-digests")) {
      const other = new TextEncoder().encode(withPathDigests(bytes));
      this.#replace(c, other, (h) => {
        length(other)(h);
        h.set("docker-content-digest", digestOf(other));
      });
    } else if (kinds.has("oversized-manifest") || kinds.has("oversized-manifest-chunked")) {
      // Trailing whitespace keeps it valid JSON: only its size is wrong.
      const big = new Uint8Array(MAX_MANIFEST_BYTES + 1).fill(0x20);
      big.set(bytes.subarray(0, MAX_MANIFEST_BYTES));
      if (kinds.has("oversized-manifest")) this.#replace(c, big, length(big));
      else
        this.#replace(
          c,
          mapChunks(streamOf(big, 64 * 1024), (x) => x),
          (h) => h.delete("content-length"),
        );
    } else if (kinds.has("endless-body")) {
      this.#replace(c, endless(streamOf(bytes, bytes.byteLength), 0x20), (h) => h.delete("content-length"));
    } else {
      this.#replace(c, trickle(streamOf(bytes, bytes.byteLength), this.#interval), length(bytes));
    }
  }

  #listing(c: Context, url: URL): void {
    let link: string | undefined;
    if (this.has("looping-link")) {
      // The same page under a new URL each time: a loop that comparing URLs alone never sees.
      const again = new URL(url.href);
      again.searchParams.delete(FOREIGN_MARK);
      again.searchParams.set("loop", String(++this.#loop));
      link = `<${again.pathname}${again.search}>; rel="next"`;
    } else if (this.has("path-digests")) {
      link = `</v2/..%2F..%2F${PATH_DIGESTS[1].replace(/^sha256:/, "")}/tags/list?n=1>; rel="next"`;
    }
    if (link) this.#replace(c, c.res.body, (h) => h.set("link", link));
  }
}

/** Replaces every descriptor digest of a manifest or index with one carrying path characters. */
function withPathDigests(bytes: Uint8Array): string {
  const doc = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  let i = 0;
  const poison = (d: unknown) => {
    if (d && typeof d === "object" && "digest" in d)
      (d as { digest: string }).digest = PATH_DIGESTS[i++ % 2]!;
  };
  poison(doc.config);
  for (const key of ["layers", "manifests"]) {
    const list = doc[key];
    if (Array.isArray(list)) list.forEach(poison);
  }
  return JSON.stringify(doc);
}
