#!/usr/bin/env bash
# Benchmark (not a test): home-page latency with city-scale data on SQLite, 16 concurrent
# clients from a second process (wrk). Usage: bash scripts/bench-home.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -q
db="$(mktemp -d)/bench.db"
port=18080
echo "==> demo --scale city (time and peak memory)"
./target/release/jineng demo --scale city --database "sqlite:$db" --no-serve | tee /tmp/jineng-bench-demo.txt | grep -E "demo ready|peak"
password=$(awk '$3 == "admin" {print $2}' /tmp/jineng-bench-demo.txt)
JINENG_LOG=warn ./target/release/jineng serve --database "sqlite:$db" --listen "127.0.0.1:$port" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
cookie=$(curl -s -D - -o /dev/null -d "username=admin&password=$password&next=/" "http://127.0.0.1:$port/login" | awk -F'[=;]' '/^set-cookie: jn_session=/ {print $2}')
[ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }
curl -sf -H "Cookie: jn_session=$cookie" "http://127.0.0.1:$port/" | grep -q "data-target=\"T1\"" || { echo "home page did not render" >&2; exit 1; }
echo "==> GET / with 16 concurrent clients for ${secs}s (wrk, 2 threads)"
wrk -t2 -c16 -d"${secs}s" --latency -H "Cookie: jn_session=$cookie" "http://127.0.0.1:$port/"
