#!/usr/bin/env bash
# Builds helm ($HELM_VERSION, helm.sh/helm/v3 cmd/helm) from the Go module proxy into a cache folder keyed by
# version, like build-kube.sh. Idempotent: a finished build leaves a stamp file and is never rebuilt; a warm
# call only prints the folder. Prints the folder holding bin/helm.
set -euo pipefail
: "${HELM_VERSION:=v3.22.0}"
CACHE="${EDGEPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeport}"
OUT="$CACHE/helm-$HELM_VERSION"
[ -f "$OUT/.done" ] && { echo "$OUT"; exit 0; }
# One build at a time per version: a second caller waits here, then finds the stamp.
mkdir -p "$CACHE"; exec 9>"$OUT.lock"; flock 9
[ -f "$OUT/.done" ] && { echo "$OUT"; exit 0; }
mkdir -p "$OUT/bin"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
GOBIN="$OUT/bin" go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
"$OUT/bin/helm" version --short >&2
touch "$OUT/.done"
echo "$OUT"
