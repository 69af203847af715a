# Shared by infra/up and infra/test: the project venv with the pinned emulator, starting and
# stopping it on loopback, and the environment the SDK needs to talk to it.
MOTO_VERSION="5.2.5"
# DuckDB: the test suite opens the export of case facts with it, as analysts do (docs/export.md)
DUCKDB_VERSION="1.4.4"
MOTO_REQS=("moto[server]==${MOTO_VERSION}" "duckdb==${DUCKDB_VERSION}")
VENV="${ROOT}/.venv"
MOTO_PID=""

ensure_moto_venv() {
  local want stamp="$VENV/.moto.stamp"
  want="$(printf '%s\n' "${MOTO_REQS[@]}")"
  if [[ -x "$VENV/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "installing ${MOTO_REQS[*]} into .venv ..." >&2
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${MOTO_REQS[@]}"
  printf '%s\n' "$want" >"$stamp"
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_moto PORT: start the emulator on 127.0.0.1:PORT and wait until it answers. The emulator is
# moto behind the project's serialising layer, infra/emulator/server.py (ADR 0006); it checks the
# installed moto version itself. MOTO_PLAIN=1 starts the bare moto_server instead (to compare).
start_moto() {
  MOTO_PORT="$1"
  mkdir -p "$ROOT/.local"
  local ready="_local/health"
  if [[ "${MOTO_PLAIN:-}" == 1 ]]; then
    ready="moto-api/data.json"
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$ROOT/.local/moto-$MOTO_PORT.log" 2>&1 &
  else
    "$VENV/bin/python" "$ROOT/infra/emulator/server.py" -H 127.0.0.1 -p "$MOTO_PORT" >"$ROOT/.local/moto-$MOTO_PORT.log" 2>&1 &
  fi
  MOTO_PID=$!
  for _ in $(seq 1 100); do
    if "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$MOTO_PORT/$ready', timeout=1)" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      echo "the emulator failed to start; its log:" >&2
      cat "$ROOT/.local/moto-$MOTO_PORT.log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "the emulator did not answer on port $MOTO_PORT" >&2
  return 1
}

stop_moto() {
  if [[ -n "${MOTO_PID}" ]] && kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
}

# Dummy credentials (without them the SDK probes instance metadata), a region, the endpoint.
export_emulator_env() {
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_SESSION_TOKEN=test
  export AWS_REGION=ap-southeast-2 AWS_DEFAULT_REGION=ap-southeast-2
  export AWS_ENDPOINT_URL="http://127.0.0.1:${MOTO_PORT}"
  export AWS_EC2_METADATA_DISABLED=true
  unset AWS_PROFILE
}

nextest_or_test() {
  if cargo nextest --version >/dev/null 2>&1; then echo nextest; else echo test; fi
}

# The portal (portal/, Vite + React): `npm ci` when node_modules is missing or older than the
# lockfile, `npm run build` when portal/dist is missing or older than any of its sources.
PORTAL_DIR="${ROOT}/portal"
ensure_portal_deps() {
  command -v npm >/dev/null || { echo "the portal needs Node.js 20+ and npm (https://nodejs.org)" >&2; return 1; }
  if [[ ! -f "$PORTAL_DIR/node_modules/.package-lock.json" || "$PORTAL_DIR/package-lock.json" -nt "$PORTAL_DIR/node_modules/.package-lock.json" ]]; then
    echo "portal: npm ci ..." >&2
    (cd "$PORTAL_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}

ensure_portal_built() {
  ensure_portal_deps
  local stamp="$PORTAL_DIR/dist/index.html"
  if [[ -f "$stamp" ]] && [[ -z "$(find "$PORTAL_DIR/src" "$PORTAL_DIR/index.html" "$PORTAL_DIR/package-lock.json" \
        "$PORTAL_DIR/vite.config.ts" "$ROOT/docs/openapi.yaml" -newer "$stamp" -print -quit 2>/dev/null)" ]]; then
    return 0
  fi
  echo "portal: npm run build ..." >&2
  (cd "$PORTAL_DIR" && npm run --silent build) >&2
}

# Debian's chromium for the browser tests (Playwright never downloads its own browsers here).
ensure_chromium() {
  CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  export CHROMIUM_PATH
  [[ -x "$CHROMIUM_PATH" ]] && return 0
  local sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  echo "installing chromium (apt-get) ..." >&2
  $sudo apt-get install -y -q chromium >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
  [[ -x "$CHROMIUM_PATH" ]] || { echo "chromium is not at $CHROMIUM_PATH" >&2; return 1; }
}

http_ok() {
  python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null
}

# start_local_stack: local-api (portal + API + IdP) on free ports against the running emulator;
# sets PORTAL_URL, API_URL and LOCAL_API_PID, and waits until both answer.
LOCAL_API_PID=""
start_local_stack() {
  local portal_port api_port log="$ROOT/.local/local-api-test.log"
  portal_port="$(free_port)"
  api_port="$(free_port)"
  cargo build -q -p cms-local --bin local-api
  PORT="$portal_port" API_PORT="$api_port" LOCAL_TOKENS_FILE="$ROOT/.local/tokens-test.env" RUST_LOG=warn \
    cargo run -q -p cms-local --bin local-api >"$log" 2>&1 &
  LOCAL_API_PID=$!
  export PORTAL_URL="http://127.0.0.1:$portal_port" API_URL="http://127.0.0.1:$api_port"
  for _ in $(seq 1 300); do
    if grep -q "Ctrl-C to stop" "$log" && http_ok "$PORTAL_URL/config.json" && http_ok "$API_URL/local-idp/jwks.json"; then
      return 0
    fi
    if ! kill -0 "$LOCAL_API_PID" 2>/dev/null; then
      echo "local-api exited; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "local-api did not come up; see $log" >&2
  return 1
}

stop_local_stack() {
  if [[ -n "${LOCAL_API_PID}" ]] && kill -0 "$LOCAL_API_PID" 2>/dev/null; then
    kill -INT "$LOCAL_API_PID" 2>/dev/null || true
    wait "$LOCAL_API_PID" 2>/dev/null || true
  fi
}

# rust_lints: `cargo fmt --check` and `cargo clippy` over every crate and target, warnings denied.
# Two lints are allowed, both about sizes of error types: `result_large_err` and
# `large_enum_variant` — the adapters return the AWS SDK's `SdkError` (several hundred bytes)
# inside `StoreError::Unavailable` paths and one enum carries a whole `CaseChange`; boxing them
# would change every signature for no measured gain (errors are the rare path). The components
# come with rustup's default profile; when missing they are added once (rustup component add).
rust_lints() {
  local c
  for c in rustfmt clippy; do
    if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
      echo "installing the ${c} component (rustup) ..." >&2
      rustup component add "$c" >&2
    fi
  done
  cargo fmt --all --check
  cargo clippy --workspace --all-targets --quiet -- -D warnings -A clippy::result_large_err -A clippy::large_enum_variant
  echo "ok    rustfmt, clippy (warnings denied)"
}
