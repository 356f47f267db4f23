#!/usr/bin/env bash
# Starts a throwaway single-node Garage on 127.0.0.1 for the S3 tests and prints the
# AWS_* variables that reach it. Usage: eval "$(scripts/garage-test-server.sh DIR)".
# Stop it with: kill "$AKTE_GARAGE_PID".
set -euo pipefail
dir="${1:?usage: garage-test-server.sh DIR}"
bin="$(bash "$(dirname "$0")/install-garage.sh")"
mkdir -p "$dir/meta" "$dir/data"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rpc=$(port); s3=$(port)
cat > "$dir/garage.toml" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"
TOML
key="GK$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
GARAGE_DEFAULT_ACCESS_KEY="$key" GARAGE_DEFAULT_SECRET_KEY="$secret" GARAGE_DEFAULT_BUCKET=akte \
  GARAGE_ALLOW_WORLD_READABLE_SECRETS=true RUST_LOG=warn \
  nohup "$bin" -c "$dir/garage.toml" server --single-node --default-bucket >"$dir/garage.log" 2>&1 &
pid=$!
if [ -n "${AKTE_WATCH_PID:-}" ]; then
  # Stop Garage and remove its data when the process that asked for it (a test binary) ends.
  ( while kill -0 "$AKTE_WATCH_PID" 2>/dev/null; do sleep 1; done
    kill "$pid" 2>/dev/null; sleep 1; rm -rf "$dir" ) >/dev/null 2>&1 &
fi
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/$s3) 2>/dev/null; then break; fi
  sleep 0.1
done
echo "export AKTE_GARAGE_PID=$pid AWS_ENDPOINT_URL=http://127.0.0.1:$s3 AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_REGION=garage AKTE_S3_BUCKET=akte"
