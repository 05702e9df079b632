#!/usr/bin/env bash
# End-to-end run on kind + LocalStack, for machines with Docker (the CI machine has none: there,
# e2e/local/operator-e2e.test.ts tells the same story with a real apiserver and local processes).
#
#   e2e/kind/run.sh            create the cluster, run everything, delete the cluster
#   WARP_KIND_KEEP=1 e2e/kind/run.sh     keep the cluster afterwards (kind delete cluster --name warp-e2e)
#
# Needs: docker, kind (>= 0.20), kubectl, helm (v3). Steps: a kind cluster with workers in three
# zones; LocalStack (DynamoDB + S3); the image built and loaded; the chart installed; a 3-zone
# WarpAgent applied and waited Ready; a kcat producer Job and consumer Job; every produced value
# must come back; the WarpAgent deleted and its tables gone (deletionPolicy Delete).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
cluster="${WARP_KIND_CLUSTER:-warp-e2e}"
image="${WARP_IMAGE:-warp:e2e}"
keep="${WARP_KIND_KEEP:-0}"
messages=1000
context="kind-${cluster}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'e2e/kind/run.sh: %s\n' "$*" >&2; exit 1; }

for tool in docker kind kubectl helm; do
  command -v "${tool}" >/dev/null 2>&1 || die "${tool} is required on PATH"
done
docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (docker info failed)"

k() { kubectl --context "${context}" "$@"; }

cleanup() {
  local status=$?
  if [[ ${status} -ne 0 ]]; then
    log "failed (exit ${status}); state for debugging:"
    k get warpagents,deployments,pods,jobs -A -o wide >&2 || true
    k -n warp-system logs deploy/warp-warp-operator --tail=100 >&2 || true
  fi
  if [[ "${keep}" != "1" ]]; then
    log "deleting kind cluster ${cluster}"
    kind delete cluster --name "${cluster}" >/dev/null 2>&1 || true
  fi
  exit "${status}"
}
trap cleanup EXIT

log "creating kind cluster ${cluster}"
kind create cluster --name "${cluster}" --config "${here}/kind-config.yaml" --wait 180s

log "labelling the workers into zones a, b, c"
zones=(zone-a zone-b zone-c)
mapfile -t workers < <(k get nodes -l '!node-role.kubernetes.io/control-plane' -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort)
[[ ${#workers[@]} -eq 3 ]] || die "expected 3 worker nodes, found ${#workers[@]}"
for i in 0 1 2; do
  k label node "${workers[$i]}" "topology.kubernetes.io/zone=${zones[$i]}" --overwrite
done

log "building ${image} and loading it into the cluster"
docker build -t "${image}" "${root}"
kind load docker-image "${image}" --name "${cluster}"

log "starting LocalStack (DynamoDB + S3)"
k apply -f "${here}/manifests/localstack.yaml"
k -n localstack rollout status deploy/localstack --timeout=300s
k -n localstack exec deploy/localstack -- awslocal s3 mb s3://warp-e2e

for ns in warp-system streaming; do
  k create namespace "${ns}" --dry-run=client -o yaml | k apply -f -
  k -n "${ns}" create secret generic aws-credentials \
    --from-literal=AWS_ACCESS_KEY_ID=test --from-literal=AWS_SECRET_ACCESS_KEY=test \
    --dry-run=client -o yaml | k apply -f -
done

log "installing the operator chart"
helm --kube-context "${context}" upgrade --install warp "${root}/charts/warp-operator" \
  --namespace warp-system \
  --set image.repository="${image%%:*}" \
  --set image.tag="${image##*:}" \
  --set image.pullPolicy=Never \
  --set aws.region=us-east-1 \
  --set aws.endpoints.dynamodb=http://localstack.localstack.svc:4566 \
  --set aws.endpoints.s3=http://localstack.localstack.svc:4566 \
  --set aws.credentialsSecretName=aws-credentials \
  --wait --timeout 300s

log "applying a 3-zone WarpAgent"
k apply -f "${here}/manifests/warpagent.yaml"
k -n streaming wait warpagent/events --for=condition=Ready --timeout=300s
k -n streaming get warpagent events

log "producing ${messages} records and consuming them back"
k -n streaming delete job producer consumer --ignore-not-found
k apply -f "${here}/manifests/producer-job.yaml"
k -n streaming wait job/producer --for=condition=complete --timeout=300s
k apply -f "${here}/manifests/consumer-job.yaml"
k -n streaming wait job/consumer --for=condition=complete --timeout=300s

expected="$(mktemp)"
got="$(mktemp)"
for ((i = 0; i < messages; i++)); do echo "value-${i}"; done | sort >"${expected}"
k -n streaming logs job/consumer | sort >"${got}"
if ! diff -q "${expected}" "${got}" >/dev/null; then
  log "missing values (first 20):"
  comm -23 "${expected}" "${got}" | head -20 >&2
  die "the consumer did not read back every produced value ($(wc -l <"${got}") of ${messages})"
fi
log "all ${messages} values came back"

log "checking that compaction wrote objects to S3"
for _ in $(seq 1 30); do
  if k -n localstack exec deploy/localstack -- awslocal s3 ls --recursive s3://warp-e2e/events/ | grep -q .; then
    break
  fi
  sleep 2
done
k -n localstack exec deploy/localstack -- awslocal s3 ls --recursive s3://warp-e2e/events/ | grep -q . \
  || die "no compacted objects under s3://warp-e2e/events/"

log "deleting the WarpAgent: its tables go (deletionPolicy Delete)"
k -n streaming delete warpagent events --timeout=180s
if k -n localstack exec deploy/localstack -- awslocal dynamodb list-tables --output text | grep -q 'e2e-files\|e2e-chunks'; then
  die "the tables are still there after deletion"
fi
rm -f "${expected}" "${got}"
log "e2e passed"
