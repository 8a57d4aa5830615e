/**
 * Pagination styles of the APIs the simulator serves: OCI `n`/`last`, and
 * the three the provider APIs use (Docker Hub `page`/`page_size`, GitHub
 * `Link` with `page`, Google `pageToken`).
 */

export interface OciPage<T> {
  items: T[];
  /** Value of the `Link` header for the next page, when there is one. */
  link: string | undefined;
}

/**
 * OCI `n`/`last` pagination over a sorted list: entries after `last`, at
 * most `n`, and a `Link: <path?n=&last=>; rel="next"` while more remain.
 */
export function ociPage(
  sorted: string[],
  query: { n?: string | undefined; last?: string | undefined },
  path: string,
  defaultPageSize?: number,
): OciPage<string> | { error: string } {
  const n = query.n === undefined || query.n === "" ? defaultPageSize : Number(query.n);
  if (n !== undefined && (!Number.isSafeInteger(n) || n < 0))
    return { error: "n must be a non-negative integer" };
  const after = query.last;
  const start = after === undefined ? 0 : sorted.findIndex((item) => item > after);
  const rest = start < 0 ? [] : sorted.slice(start);
  const items = n === undefined ? rest : rest.slice(0, n);
  const more = n !== undefined && n > 0 && rest.length > items.length;
  const last = items.at(-1);
  const link =
    more && last !== undefined
      ? `<${path}?${new URLSearchParams({ n: String(n), last }).toString()}>; rel="next"`
      : undefined;
  return { items, link };
}

/** Docker Hub: `?page=&page_size=` → `{count, next, previous, results}`. */
export function pageNumberPage<T>(items: T[], url: URL, defaults = { pageSize: 10, maxPageSize: 100 }) {
  const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
  const size = Math.min(
    defaults.maxPageSize,
    Math.max(1, Number(url.searchParams.get("page_size") ?? defaults.pageSize) || defaults.pageSize),
  );
  const start = (page - 1) * size;
  const at = (n: number) => {
    const next = new URL(url.href);
    next.searchParams.set("page", String(n));
    next.searchParams.set("page_size", String(size));
    return next.href;
  };
  return {
    count: items.length,
    next: start + size < items.length ? at(page + 1) : null,
    previous: page > 1 ? at(page - 1) : null,
    results: items.slice(start, start + size),
  };
}

/** GitHub: `?page=&per_page=` → the items and a `Link` header with next/prev/first/last. */
export function linkHeaderPage<T>(items: T[], url: URL, defaults = { perPage: 30, maxPerPage: 100 }) {
  const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
  const per = Math.min(
    defaults.maxPerPage,
    Math.max(1, Number(url.searchParams.get("per_page") ?? defaults.perPage) || defaults.perPage),
  );
  const last = Math.max(1, Math.ceil(items.length / per));
  const at = (n: number) => {
    const target = new URL(url.href);
    target.searchParams.set("page", String(n));
    target.searchParams.set("per_page", String(per));
    return target.href;
  };
  const links: string[] = [];
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`, `<${at(page - 1)}>; rel="prev"`);
  return {
    items: items.slice((page - 1) * per, page * per),
    link: links.length > 0 ? links.join(", ") : undefined,
  };
}

/** Google: `?pageToken=&pageSize=` → the items and `nextPageToken` (an opaque offset). */
export function pageTokenPage<T>(items: T[], url: URL, defaults = { pageSize: 100, maxPageSize: 1000 }) {
  const token = url.searchParams.get("pageToken");
  const offset = token ? Number(Buffer.from(token, "base64url").toString("utf8")) : 0;
  const size = Math.min(
    defaults.maxPageSize,
    Math.max(1, Number(url.searchParams.get("pageSize") ?? defaults.pageSize) || defaults.pageSize),
  );
  const start = Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
  const end = start + size;
  return {
    items: items.slice(start, end),
    nextPageToken: end < items.length ? Buffer.from(String(end)).toString("base64url") : undefined,
  };
}
