#!/bin/sh
# Herald's namespace on the Temporal server, once it answers; nothing if it exists already.
set -eu
address=${TEMPORAL_ADDRESS:-temporal:7233}
namespace=${TEMPORAL_NAMESPACE:-default}
tries=0
until temporal operator cluster health --address "$address"; do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { echo "Temporal at $address is not healthy"; exit 1; }
  sleep 2
done
temporal operator namespace describe --namespace "$namespace" --address "$address" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$namespace" --address "$address" \
       --retention "${TEMPORAL_RETENTION:-7d}"
echo "namespace $namespace is ready"
