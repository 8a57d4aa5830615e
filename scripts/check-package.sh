#!/usr/bin/env bash
# The package as users install it: publint and attw on the exports map and
# types, then `npm pack`, the tarball installed into an empty directory, and
# on Node 22 and Node 24 (the `node` npm package): `npx regkit --version`, a
# push and a copy against `regkit serve`, and the examples importing "regkit".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/regkit-package.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n--> %s\n' "$*"; }
started=$(date +%s)
cd "$root"
version="$(node -p 'require("./package.json").version')"

step "build"
npm run build --silent

step "publint"
npx publint --strict

step "attw (types for every export, ESM only)"
npx attw --pack . --profile esm-only

step "npm pack"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -1)"
ls -l "$tarball"

step "install the tarball into an empty directory"
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm pkg set type=module
npm install --no-audit --no-fund --loglevel=error "$tarball"
cp -r "$root/examples" .

# Starts `regkit serve ARGS…` in the background and prints its --json line once it is up.
serve() {
  local out="$work/serve.$RANDOM.json"
  npx --no-install regkit --json serve --port 0 "$@" >"$out" &
  pids+=($!)
  for _ in $(seq 150); do
    [ -s "$out" ] && { head -1 "$out"; return; }
    sleep 0.2
  done
  echo "regkit serve did not start" >&2
  return 1
}
json() { node -e 'process.stdout.write(String(JSON.parse(process.argv[1])[process.argv[2]]))' "$1" "$2"; }

for major in 22 24; do
  step "Node $major"
  node_bin="$(dirname "$(npx -y -p "node@$major" -c 'command -v node')")"
  export PATH="$node_bin:$PATH"
  node --version | grep -q "^v$major\." || { echo "expected Node $major, got $(node --version)" >&2; exit 1; }
  echo "node $(node --version)"

  got="$(npx --no-install regkit --version)"
  [ "$got" = "$version" ] || { echo "regkit --version said '$got', expected '$version'" >&2; exit 1; }
  echo "npx regkit --version: $got"

  host="$(json "$(serve)" registry)"
  host="${host#http://}"
  node --input-type=module -e '
    import { generateIndex, writeOciLayout } from "regkit";
    await writeOciLayout("seed", await generateIndex({ seed: "package", platforms: ["linux/amd64", "linux/arm64"] }), "v1");'
  npx --no-install regkit push seed:v1 "$host/pkg/app:v1"
  npx --no-install regkit copy --progress plain "$host/pkg/app:v1" "$host/pkg/copy:v1"
  [ "$(npx --no-install regkit digest "$host/pkg/copy:v1")" = "$(npx --no-install regkit digest "$host/pkg/app:v1")" ] ||
    { echo "the copy's digest differs" >&2; exit 1; }
  node --input-type=module -e '
    import { copyImage, digest } from "regkit";
    const [host] = process.argv.slice(1);
    const result = await copyImage(`${host}/pkg/app:v1`, `oci:lib-copy:v1`, { platform: "linux/arm64" });
    if (result.descriptor.digest !== (await digest(`${host}/pkg/app:v1`, { platform: "linux/arm64" }))) process.exit(1);
    console.log(`library copy on ${process.version}: ${result.descriptor.digest}`);' "$host"
  rm -rf seed lib-copy

  for example in copy-with-progress pull-platform list-semver-tags; do
    echo "examples/$example.ts"
    node --no-warnings "examples/$example.ts" | tail -2
  done
  printf 'alice:secret\n' >"$work/users.txt"
  urls="$(serve --providers dockerhub --users "$work/users.txt" --pull-limit 10:1)"
  echo "examples/dockerhub-pull-budget.ts"
  HOME="$work" DOCKER_CONFIG="$work" DOCKER_HUB_USERNAME=alice DOCKER_HUB_PASSWORD=secret \
    DOCKER_HUB_URL="$(json "$urls" dockerhub-api)" DOCKER_HUB_REGISTRY_URL="$(json "$urls" dockerhub-registry)" \
    DOCKER_HUB_AUTH_URL="$(json "$urls" dockerhub-auth)" node --no-warnings examples/dockerhub-pull-budget.ts
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pids=()
  PATH="${PATH#"$node_bin:"}"
done

printf '\n--> package checked in %ss\n' "$(( $(date +%s) - started ))"
