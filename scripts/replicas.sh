#!/usr/bin/env bash
# Start K replicas of MLP Lab (streamlit run app.py) on loopback ports and nginx in front of them
# (deploy/nginx.conf, sticky by a route cookie). Runs in the foreground; Ctrl-C (or SIGTERM)
# stops nginx and every replica it started.
#
#   bash scripts/replicas.sh [K]            # default K=2
#
# Environment: MLPLAB_LISTEN (nginx port, default 8600), MLPLAB_BASE_PORT (first replica's port
# minus one, default 8600: replicas on 8601..8600+K), MLPLAB_WORKERS (training workers per
# replica; default: the app's own choice, about the number of cores: with K replicas on one machine
# set it to cores / K), MLPLAB_ADDRESS (where nginx listens, default 127.0.0.1; 0.0.0.0 for a
# classroom network), MLPLAB_RUN_DIR (nginx's files and the logs, default a new folder in /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
K="${1:-2}"
LISTEN="${MLPLAB_LISTEN:-8600}"
BASE="${MLPLAB_BASE_PORT:-8600}"
ADDRESS="${MLPLAB_ADDRESS:-127.0.0.1}"
PY="${PYTHON:-.venv/bin/python}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
RUN_DIR="${MLPLAB_RUN_DIR:-$(mktemp -d /tmp/mlplab-replicas.XXXXXX)}"
mkdir -p "$RUN_DIR"
if [[ ! -x "$NGINX" ]]; then
  echo "nginx not found: apt-get install nginx-light (or nginx)" >&2
  exit 1
fi
# One cookie secret for all replicas: XSRF cookies stay valid whichever replica set them.
SECRET="${MLPLAB_COOKIE_SECRET:-$("$PY" -c 'import secrets; print(secrets.token_hex(32))')}"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

upstream=""
for i in $(seq 1 "$K"); do
  port=$((BASE + i))
  upstream+="        server 127.0.0.1:${port} max_fails=0;  # MLPLAB-UPSTREAM\n"
  STREAMLIT_SERVER_COOKIE_SECRET="$SECRET" "$PY" -m streamlit run app.py --server.headless true \
    --server.address 127.0.0.1 --server.port "$port" --browser.gatherUsageStats false \
    >"$RUN_DIR/replica-$i.log" 2>&1 &
  pids+=($!)
done

# deploy/nginx.conf with this run's ports: one upstream line per replica, the listen address.
awk -v up="$upstream" -v listen="        listen ${ADDRESS}:${LISTEN};  # MLPLAB-LISTEN" '
  /# MLPLAB-UPSTREAM/ { if (!done) { printf "%s", up; done = 1 } next }
  /# MLPLAB-LISTEN/ { print listen; next }
  { print }' deploy/nginx.conf >"$RUN_DIR/nginx.conf"

for i in $(seq 1 "$K"); do
  port=$((BASE + i))
  for _ in $(seq 1 600); do
    if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
      echo "replica $i stopped; see $RUN_DIR/replica-$i.log" >&2
      exit 1
    fi
    if "$PY" - "$port" <<'PYEOF' 2>/dev/null; then break; fi
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/_stcore/health", timeout=2).read() == b"ok" else 1)
PYEOF
    sleep 0.2
  done
done
"$NGINX" -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" &
pids+=($!)
echo "MLP Lab: $K replicas behind nginx at http://${ADDRESS}:${LISTEN}/ (logs in $RUN_DIR)"
wait -n "${pids[@]}" || true
