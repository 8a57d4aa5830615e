import { createHash } from "node:crypto";
import { ProtocolError } from "../core/errors.js";
import { headerValues } from "../transport/response.js";
import type { HttpResponse } from "../transport/types.js";

/** A page of a listing and the URL of the next one, if any. */
export interface Page<T> {
  items: T[];
  next: URL | undefined;
}

/**
 * Async iteration over items, plus `byPage()` for callers that want pages.
 * Iteration stops fetching as soon as the caller stops consuming.
 */
export interface PagedIterable<T> extends AsyncIterable<T> {
  /** The same listing, one page at a time. */
  byPage(): AsyncIterable<T[]>;
  /** Collects every item (bounded by the page cap). */
  all(): Promise<T[]>;
}

/** A misbehaving registry must not keep us paging forever. */
export const DEFAULT_MAX_PAGES = 10_000;

/**
 * Extracts the `rel="next"` target of an RFC 8288 `Link` header. Registries
 * send `<url>; rel="next"`; several links may share one header.
 */
export function parseNextLink(values: string[]): string | undefined {
  for (const value of values) {
    for (const part of splitLinks(value)) {
      const match = /^\s*<([^>]*)>(.*)$/s.exec(part);
      if (!match) continue;
      const isNext = (match[2] ?? "").split(";").some((param) => {
        const eq = param.indexOf("=");
        if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "rel") return false;
        const rel = param
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, "");
        return rel.toLowerCase().split(/\s+/).includes("next");
      });
      if (isNext) return match[1];
    }
  }
  return undefined;
}

function splitLinks(value: string): string[] {
  // Commas separate links, but may also appear inside <...> or quoted params.
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && depth === 0) quoted = !quoted;
    else if (c === "<" && !quoted) depth++;
    else if (c === ">" && !quoted) depth = Math.max(0, depth - 1);
    else if (c === "," && depth === 0 && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

export function nextLinkOf(response: HttpResponse): string | undefined {
  return parseNextLink(headerValues(response, "link"));
}

/**
 * Builds a PagedIterable from a page fetcher. Refuses a next URL already
 * visited and a page that repeats an earlier one (the same loop under a new
 * URL each time: only the content shows it), and stops after `maxPages`.
 */
export function paged<T>(
  first: URL | (() => Promise<URL>),
  fetchPage: (url: URL) => Promise<Page<T>>,
  options: { maxPages?: number; what: string },
): PagedIterable<T> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  async function* pages(): AsyncGenerator<T[]> {
    const seen = new Set<string>();
    const contents = new Set<string>();
    let url: URL | undefined = first instanceof URL ? first : await first();
    let count = 0;
    while (url) {
      if (seen.has(url.href))
        throw new ProtocolError(`${options.what}: pagination loops back to a visited page`);
      if (count >= maxPages) throw new ProtocolError(`${options.what}: more than ${maxPages} pages`);
      seen.add(url.href);
      count++;
      const page: Page<T> = await fetchPage(url);
      if (page.items.length > 0) {
        const content = createHash("sha256").update(JSON.stringify(page.items)).digest("base64");
        if (contents.has(content))
          throw new ProtocolError(`${options.what}: pagination loops: page ${count} repeats an earlier page`);
        contents.add(content);
      }
      yield page.items;
      url = page.next;
    }
  }
  return {
    byPage: pages,
    async *[Symbol.asyncIterator]() {
      for await (const items of pages()) yield* items;
    },
    async all() {
      const out: T[] = [];
      for await (const items of pages()) out.push(...items);
      return out;
    },
  };
}
