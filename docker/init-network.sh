#!/bin/sh
# One-shot generator of the compose network (the `init` service of docker/compose.yml), POSIX sh.
#
# Runs `polis genesis` (new validator keys, QBFT genesis, one config.toml per validator) into $POLIS_NETWORK_DIR,
# then rewrites the generated addresses for the compose network: validator i listens on 0.0.0.0:30303 and is
# reached at $POLIS_IP_PREFIX.(11+i); JSON-RPC on 0.0.0.0:8545 in every container. Adds node-follower/config.toml
# (no validator key, static peers = the validators). Does nothing when the directory already holds a network, so
# keys are generated once, at first start, and never leave the volume.
#
#   POLIS_NETWORK_DIR=/network  POLIS_VALIDATORS=4  POLIS_CHAIN_ID=1337  POLIS_BLOCK_PERIOD=1
#   POLIS_IP_PREFIX=172.30.0    POLIS_DEV_ACCOUNT=1 (prefund the well-known dev account: local networks only)
#   POLIS_APP_DIR=/app
set -eu

app_dir=${POLIS_APP_DIR:-/app}
out=${POLIS_NETWORK_DIR:-/network}
validators=${POLIS_VALIDATORS:-4}
chain_id=${POLIS_CHAIN_ID:-1337}
block_period=${POLIS_BLOCK_PERIOD:-1}
prefix=${POLIS_IP_PREFIX:-172.30.0}
p2p_port=30303

if [ -f "$out/genesis.json" ]; then
  echo "init-network: $out already holds a network (genesis.json); nothing to do"
  exit 0
fi

mkdir -p "$out"
tmp="$out/.generating"
rm -rf "$tmp"
set -- genesis --validators "$validators" --out "$tmp" --chain-id "$chain_id" --block-period "$block_period" \
  --host 127.0.0.1 --rpc-port 8545 --p2p-port "$p2p_port"
[ "${POLIS_DEV_ACCOUNT:-0}" = 1 ] && set -- "$@" --dev-account
node "$app_dir/dist/cli/main.js" "$@"

# 127.0.0.1:(30303+j) in the generated peer lists -> validator j's container address.
peers_sed=
j=0
while [ "$j" -lt "$validators" ]; do
  peers_sed="$peers_sed s#/ip4/127\\.0\\.0\\.1/tcp/$((p2p_port + j))/p2p/#/ip4/$prefix.$((11 + j))/tcp/$p2p_port/p2p/#g;"
  j=$((j + 1))
done
i=0
while [ "$i" -lt "$validators" ]; do
  sed -i \
    -e "$peers_sed" \
    -e "s#^listen = .*#listen = [ \"/ip4/0.0.0.0/tcp/$p2p_port\" ]#" \
    -e 's#^host = .*#host = "0.0.0.0"#' \
    -e 's#^port = .*#port = 8545#' \
    -e 's#^datadir = .*#datadir = "/data"#' \
    "$tmp/node-$i/config.toml"
  i=$((i + 1))
done

# The follower: every validator as a static peer (node-1's list holds node-0, node-0's the others).
all_peers=$(grep -ho '"/ip4/[^"]*/p2p/[^"]*"' "$tmp"/node-*/config.toml | sort -u | paste -sd, - | sed 's/,/, /g')
mkdir -p "$tmp/node-follower"
cat >"$tmp/node-follower/config.toml" <<EOF
datadir = "/data"
genesis = "../genesis.json"

[rpc]
host = "0.0.0.0"
port = 8545
apis = [ "eth", "net", "web3", "qbft" ]

[p2p]
listen = [ "/ip4/0.0.0.0/tcp/$p2p_port" ]
static-peers = [ $all_peers ]
EOF

# genesis.json last: its presence marks a complete network.
for d in "$tmp"/node-*; do mv "$d" "$out/"; done
mv "$tmp/genesis.json" "$out/genesis.json"
rmdir "$tmp"
echo "init-network: generated $validators validators + 1 follower in $out"
