import { createHash } from "node:crypto";
import type { ActiveVersion } from "./packages.js";

/* The Packages API's JSON as the REST description's schemas have it (`simple-user`, `package`, `package-version`). */

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export function numericId(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0) & 0x7fffffff;
}

export function simpleUser(api: string, login: string, type: "User" | "Organization") {
  const user = `${api}/users/${login}`;
  return {
    login,
    id: numericId(`user ${login}`),
    node_id: Buffer.from(`04:${type}${numericId(login)}`).toString("base64"),
    avatar_url: `https://avatars.githubusercontent.com/u/${numericId(`user ${login}`)}?v=4`,
    gravatar_id: "",
    url: user,
    html_url: `https://github.com/${login}`,
    followers_url: `${user}/followers`,
    following_url: `${user}/following{/other_user}`,
    gists_url: `${user}/gists{/gist_id}`,
    starred_url: `${user}/starred{/owner}{/repo}`,
    subscriptions_url: `${user}/subscriptions`,
    organizations_url: `${user}/orgs`,
    repos_url: `${user}/repos`,
    events_url: `${user}/events{/privacy}`,
    received_events_url: `${user}/received_events`,
    type,
    site_admin: false,
    user_view_type: "public",
  };
}

/** `nullable-minimal-repository`: every required URL, templated the way GitHub writes them. */
export function minimalRepository(
  api: string,
  fullName: string,
  owner: ReturnType<typeof simpleUser>,
  isPrivate: boolean,
) {
  const url = `${api}/repos/${fullName}`;
  const name = fullName.split("/")[1]!;
  const templated: Record<string, string> = {};
  for (const [key, suffix] of Object.entries({
    archive_url: "/{archive_format}{/ref}",
    assignees_url: "/assignees{/user}",
    blobs_url: "/git/blobs{/sha}",
    branches_url: "/branches{/branch}",
    collaborators_url: "/collaborators{/collaborator}",
    comments_url: "/comments{/number}",
    commits_url: "/commits{/sha}",
    compare_url: "/compare/{base}...{head}",
    contents_url: "/contents/{+path}",
    contributors_url: "/contributors",
    deployments_url: "/deployments",
    downloads_url: "/downloads",
    events_url: "/events",
    forks_url: "/forks",
    git_commits_url: "/git/commits{/sha}",
    git_refs_url: "/git/refs{/sha}",
    git_tags_url: "/git/tags{/sha}",
    hooks_url: "/hooks",
    issue_comment_url: "/issues/comments{/number}",
    issue_events_url: "/issues/events{/number}",
    issues_url: "/issues{/number}",
    keys_url: "/keys{/key_id}",
    labels_url: "/labels{/name}",
    languages_url: "/languages",
    merges_url: "/merges",
    milestones_url: "/milestones{/number}",
    notifications_url: "/notifications{?since,all,participating}",
    pulls_url: "/pulls{/number}",
    releases_url: "/releases{/id}",
    stargazers_url: "/stargazers",
    statuses_url: "/statuses/{sha}",
    subscribers_url: "/subscribers",
    subscription_url: "/subscription",
    tags_url: "/tags",
    teams_url: "/teams",
    trees_url: "/git/trees{/sha}",
  }))
    templated[key] = `${url}${suffix}`;
  return {
    id: numericId(`repo ${fullName}`),
    node_id: Buffer.from(`010:Repository${numericId(fullName)}`).toString("base64"),
    name,
    full_name: fullName,
    owner,
    private: isPrivate,
    html_url: `https://github.com/${fullName}`,
    description: null,
    fork: false,
    url,
    ...templated,
  };
}

export function packageShape(
  api: string,
  repository: string,
  meta: { id: number; createdAt: number; visibility: "public" | "private" },
  ownerType: "User" | "Organization",
  versions: ActiveVersion[],
  linkedRepository: string | undefined,
) {
  const [login, ...rest] = repository.split("/");
  const name = rest.join("/");
  const owner = simpleUser(api, login!, ownerType);
  const encoded = encodeURIComponent(name);
  const base = ownerType === "Organization" ? `${api}/orgs/${login}` : `${api}/users/${login}`;
  const updated = Math.max(meta.createdAt, ...versions.map((v) => v.updatedAt));
  return {
    id: meta.id,
    name,
    package_type: "container",
    owner,
    version_count: versions.length,
    visibility: meta.visibility,
    url: `${base}/packages/container/${encoded}`,
    created_at: iso(meta.createdAt),
    updated_at: iso(updated),
    ...(linkedRepository
      ? { repository: minimalRepository(api, linkedRepository, owner, meta.visibility === "private") }
      : {}),
    html_url: `https://github.com/${ownerType === "Organization" ? "orgs/" : "users/"}${login}/packages/container/package/${encoded}`,
  };
}

export function versionShape(
  api: string,
  repository: string,
  ownerType: "User" | "Organization",
  version: ActiveVersion,
  deletedAt?: number,
) {
  const [login, ...rest] = repository.split("/");
  const encoded = encodeURIComponent(rest.join("/"));
  const base = ownerType === "Organization" ? `${api}/orgs/${login}` : `${api}/users/${login}`;
  const html = `https://github.com/${ownerType === "Organization" ? "orgs/" : "users/"}${login}/packages/container/${encoded}`;
  return {
    id: version.id,
    name: version.digest,
    url: `${base}/packages/container/${encoded}/versions/${version.id}`,
    package_html_url: `${html}`,
    html_url: `${html}/${version.id}`,
    created_at: iso(version.createdAt),
    updated_at: iso(version.updatedAt),
    ...(deletedAt !== undefined ? { deleted_at: iso(deletedAt) } : {}),
    metadata: { package_type: "container", container: { tags: version.tags } },
  };
}
