/**
 * Pagination styles of the APIs the simulator serves. The OCI one is here;
 * provider fakes (Docker Hub `page`/`page_size`, GitHub `Link` with `page`,
 * Google `pageToken`) add theirs beside it.
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
