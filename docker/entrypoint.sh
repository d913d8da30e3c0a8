#!/bin/sh
# Entrypoint of the Polis image (POSIX sh). Under tini as PID 1; execs node so SIGTERM reaches it directly.
#
#   no arguments            -> run --datadir "$POLIS_DATADIR" --rpc-host 0.0.0.0   (POLIS_DATADIR default /data)
#   first argument a flag   -> the same, followed by the flags (later flags win: --rpc-host 127.0.0.1 overrides)
#   anything else           -> passed to polis as is (run, init, export, import, genesis, --help …)
#
# Every variable in the environment (POLIS_CRYPTO, POLIS_RECOVERY_WORKER, NODE_OPTIONS …) reaches node unchanged.
#   POLIS_APP_DIR=/app               where dist/ lives
#   POLIS_ALLOW_ROOT=1               run as root anyway (the image runs as uid 10001)
#   POLIS_ENTRYPOINT_DRY_RUN=1       print the command instead of running it
set -eu

app_dir=${POLIS_APP_DIR:-/app}
default_datadir=${POLIS_DATADIR:-/data}

die() {
  echo "polis-entrypoint: $*" >&2
  exit 1
}

if [ "$(id -u)" = 0 ] && [ "${POLIS_ALLOW_ROOT:-0}" != 1 ]; then
  die "refusing to run as root; run as an unprivileged user (the image's is polis, uid 10001) or set POLIS_ALLOW_ROOT=1"
fi

if [ $# -eq 0 ]; then
  set -- run --datadir "$default_datadir" --rpc-host 0.0.0.0
else
  case $1 in
    -h | --help | -V | --version) ;;
    -*) set -- run --datadir "$default_datadir" --rpc-host 0.0.0.0 "$@" ;;
  esac
fi

# The data directory named by the last --datadir (commander keeps the last value): create it, check it is usable.
datadir=
want=0
for arg in "$@"; do
  if [ "$want" = 1 ]; then
    datadir=$arg
    want=0
    continue
  fi
  case $arg in
    --datadir) want=1 ;;
    --datadir=*) datadir=${arg#--datadir=} ;;
  esac
done

main="$app_dir/dist/cli/main.js"

if [ "${POLIS_ENTRYPOINT_DRY_RUN:-0}" = 1 ]; then
  echo "node --max-semi-space-size=64 $main $*"
  exit 0
fi

[ -f "$main" ] || die "$main not found (POLIS_APP_DIR=$app_dir)"

if [ -n "$datadir" ]; then
  if [ -e "$datadir" ] && [ ! -d "$datadir" ]; then
    die "datadir $datadir exists and is not a directory"
  fi
  mkdir -p "$datadir" 2>/dev/null || die "cannot create datadir $datadir as uid $(id -u)"
  if [ ! -w "$datadir" ] || [ ! -x "$datadir" ]; then
    die "datadir $datadir is not writable by uid $(id -u) (owner: $(ls -ld "$datadir" | awk '{print $3}')); e.g. chown -R $(id -u):$(id -g) on the host path"
  fi
fi

exec node --max-semi-space-size=64 "$main" "$@"
