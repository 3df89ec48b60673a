#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (Kubernetes $KUBE_VERSION),
# etcd ($ETCD_VERSION) and kwok ($KWOK_VERSION) from the Go module proxy into a cache folder keyed by
# version. Idempotent: a finished build leaves a stamp file and is never rebuilt.
# `go install k8s.io/kubernetes/cmd/...` refuses modules with replace directives, so a small wrapper
# module pins every staging module to its matching tag and builds the commands as tools.
set -euo pipefail
: "${KUBE_VERSION:=v1.37.2}" "${ETCD_VERSION:=v3.7.3}" "${KWOK_VERSION:=v0.8.0}"
CACHE="${EDGEPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeport}"
OUT="$CACHE/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
[ -f "$OUT/.done" ] && { echo "$OUT"; exit 0; }
# One build at a time per version: a second caller waits here, then finds the stamp.
mkdir -p "$CACHE"; exec 9>"$OUT.lock"; flock 9
[ -f "$OUT/.done" ] && { echo "$OUT"; exit 0; }
mkdir -p "$OUT/bin" "$OUT/src/kube" "$OUT/src/etcd"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
staging_ver="v0.${KUBE_VERSION#v1.}"

build_kube() {
  cd "$OUT/src/kube"
  curl -fsSL "https://proxy.golang.org/k8s.io/kubernetes/@v/$KUBE_VERSION.mod" -o upstream.mod
  local mods; mods=$(grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' upstream.mod | awk '{print $1}')
  {
    echo "module edgeport.local/kubebuild"; echo; echo "go 1.26"; echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"; echo
    for m in $mods; do echo "replace $m => $m $staging_ver"; done
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubectl/pkg/cmd"
)
GO
  go mod tidy -e >/dev/null 2>&1 || true
  go get k8s.io/kubernetes@"$KUBE_VERSION" >/dev/null
  go mod tidy
  local pkg="k8s.io/component-base/version" minor="${staging_ver#v0.}"; minor="${minor%%.*}"
  local ld="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    go build -trimpath -ldflags "$ld" -o "$OUT/bin/$c" "k8s.io/kubernetes/cmd/$c"
  done
  go build -trimpath -ldflags "$ld" -o "$OUT/bin/kubectl" k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  cd "$OUT/src/etcd"
  cat > go.mod <<GOMOD
module edgeport.local/etcdbuild

go 1.26
GOMOD
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "go.etcd.io/etcd/etcdctl/v3"
)
GO
  go get go.etcd.io/etcd/server/v3@"$ETCD_VERSION" go.etcd.io/etcd/etcdctl/v3@"$ETCD_VERSION" >/dev/null
  go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcd" go.etcd.io/etcd/server/v3
  go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcdctl" go.etcd.io/etcd/etcdctl/v3
}

build_kwok() {
  GOBIN="$OUT/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok's "fast" stage set (what kustomize/stage/fast assembles: node/fast, node/heartbeat-with-lease,
  # pod/fast) plus volume/fast, which binds PVCs of StorageClass kwok-volume. Stage files only: the
  # folders also hold testdata/ and kustomization.yaml, which are not Stages.
  local src; src=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
  mkdir -p "$OUT/kwok-stages"
  for d in node/fast node/heartbeat-with-lease pod/fast volume/fast; do
    find "$src/$d" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml -exec cp {} "$OUT/kwok-stages/" \;
  done
  chmod -R u+w "$OUT/kwok-stages"
}

build_etcd
build_kwok
build_kube
touch "$OUT/.done"
echo "$OUT"
