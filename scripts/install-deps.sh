#!/usr/bin/env bash
# Installs the real components the integration tests run against: the CNCF
# distribution registry (Debian: docker-registry) and skopeo. Idempotent and
# quick when both are present. Needs root (or sudo) for apt-get.
set -euo pipefail

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: docker-registry and skopeo are present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root to install ${missing[*]} (apt-get install -y docker-registry skopeo)" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The package may start its own service on :5000; tests never use it, they start their own.
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || {
  echo "install-deps: docker-registry or skopeo still missing after apt-get" >&2
  exit 1
}
echo "install-deps: done"
