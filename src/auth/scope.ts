/**
 * Token scopes (`repository:NAME:pull,push`, `registry:catalog:*`). The
 * cache keys tokens by a normalized scope set, and a copy merges the pull
 * scope of its source with the push scope of its destination.
 */

export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/** Parses one scope; the name may contain colons (a registry host with port). */
export function parseScope(text: string): Scope | undefined {
  const first = text.indexOf(":");
  const last = text.lastIndexOf(":");
  if (first <= 0 || last === first) return undefined;
  const actions = text
    .slice(last + 1)
    .split(",")
    .filter(Boolean);
  return { type: text.slice(0, first), name: text.slice(first + 1, last), actions };
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${[...new Set(scope.actions)].sort().join(",")}`;
}

/** Merges scopes that name the same resource (union of actions), sorted for a stable cache key. */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Scope>();
  const opaque = new Set<string>();
  for (const text of scopes) {
    for (const part of text.split(" ").filter(Boolean)) {
      const scope = parseScope(part);
      if (!scope) {
        opaque.add(part);
        continue;
      }
      const key = `${scope.type}:${scope.name}`;
      const existing = byResource.get(key);
      if (existing) existing.actions = [...new Set([...existing.actions, ...scope.actions])];
      else byResource.set(key, { ...scope, actions: [...scope.actions] });
    }
  }
  return [...[...byResource.values()].map(formatScope), ...opaque].sort();
}

/** True when `granted` covers every action of every scope in `wanted`. */
export function scopesCover(granted: string[], wanted: string[]): boolean {
  const have = new Map<string, Set<string>>();
  for (const s of granted.map(parseScope)) {
    if (s) have.set(`${s.type}:${s.name}`, new Set(s.actions));
  }
  return wanted.every((text) => {
    const s = parseScope(text);
    if (!s) return granted.includes(text);
    const actions = have.get(`${s.type}:${s.name}`);
    return actions !== undefined && (actions.has("*") || s.actions.every((a) => actions.has(a)));
  });
}
