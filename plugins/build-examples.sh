#!/usr/bin/env bash
# Builds the windkraft example plugin in its three languages as WebAssembly components (and
# the SDK's template) and copies each with its manifest to the guests directory, then prints
# their paths:
#   "${AKTE_GUESTS_DIR:-$CARGO_TARGET_DIR/wasm/components}/windkraft-{rust,py,js}.wasm" (+ .toml)
#   ".../sdk-template.wasm" (+ .toml)
# - Rust: plugins/examples/windkraft-rust on the plugin SDK, a member of the guests workspace,
#   built like build-guests.sh builds the guests (release, wasm32-wasip2, --locked).
# - Python: componentize-py, the version pinned in windkraft-py/requirements.txt, installed
#   into a virtual environment at ${AKTE_PY_VENV:-~/.cache/akte/py-venv} when missing.
# - JavaScript: componentize-js through its Node API (windkraft-js/build.mjs), its packages
#   installed with `npm ci` from package-lock.json when node_modules is missing or stale.
# Idempotent: a component is rebuilt only when a source is newer than it. Needs python3
# with venv (Debian: python3-venv), node >= 18 and npm, and the registries (PyPI, npm) for
# the first install only. CARGO_TARGET_DIR defaults to ~/.cache/akte/target.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
examples="$here/examples"
wit="$here/../wit"
target="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
out="${AKTE_GUESTS_DIR:-$target/wasm/components}"
venv="${AKTE_PY_VENV:-$HOME/.cache/akte/py-venv}"
mkdir -p "$out"

say() { echo "build-examples: $*" >&2; }
# True when $1 is missing or older than any of the files or directories after it.
stale() {
  local built="$1"
  shift
  [ -f "$built" ] || return 0
  [ -n "$(find "$@" -type f -newer "$built" -not -path '*/node_modules/*' -not -path '*/__pycache__/*' -print -quit)" ]
}
publish() { # name, component, manifest
  cp "$2" "$out/$1.wasm.tmp" && mv "$out/$1.wasm.tmp" "$out/$1.wasm"
  cp "$3" "$out/$1.toml"
  echo "$out/$1.wasm"
}

# --- Rust ---------------------------------------------------------------------------------
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  say "adding the wasm32-wasip2 target"
  rustup target add wasm32-wasip2 >&2
fi
# From the repository root, where cargo finds .cargo/config.toml (the guests' rustflags).
(cd "$here/.." && CARGO_TARGET_DIR="$target/wasm" cargo build --locked --release --target wasm32-wasip2 \
  --manifest-path "$here/guests/Cargo.toml" -p akte-plugin-windkraft -p akte-plugin-template >&2)
publish windkraft-rust "$target/wasm/wasm32-wasip2/release/akte_plugin_windkraft.wasm" \
  "$examples/windkraft-rust/plugin.toml"
# The SDK's copyable template, so that the tests can check it is a working enricher.
publish sdk-template "$target/wasm/wasm32-wasip2/release/akte_plugin_template.wasm" "$here/sdk/template/plugin.toml"

# --- Python ---------------------------------------------------------------------------------
py="$examples/windkraft-py"
pinned="$(sed -n 's/^componentize-py==//p' "$py/requirements.txt")"
if [ "$("$venv/bin/componentize-py" --version 2>/dev/null)" != "componentize-py $pinned" ]; then
  if [ ! -x "$venv/bin/pip" ]; then
    say "creating the Python environment $venv"
    python3 -m venv "$venv" >&2 || { say "python3 -m venv failed (Debian: apt-get install python3-venv)"; exit 1; }
  fi
  say "installing componentize-py $pinned into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$py/requirements.txt" >&2
fi
built="$target/wasm/examples/windkraft-py.wasm"
if stale "$built" "$py" "$wit" "$venv/bin/componentize-py"; then
  say "componentize-py: windkraft-py"
  mkdir -p "$(dirname "$built")"
  (cd "$py" && PYTHONDONTWRITEBYTECODE=1 "$venv/bin/componentize-py" -d "$wit" -w enricher \
    componentize app -o "$built.tmp" >&2)
  rm -rf "$py/__pycache__" # what the build-time interpreter left behind
  mv "$built.tmp" "$built"
fi
publish windkraft-py "$built" "$py/plugin.toml"

# --- JavaScript -----------------------------------------------------------------------------
js="$examples/windkraft-js"
lock_sum="$(sha256sum "$js/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$js/node_modules/.akte-lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
  say "npm ci in $js"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_sum" >"$js/node_modules/.akte-lock-sha256"
fi
built="$target/wasm/examples/windkraft-js.wasm"
if stale "$built" "$js/app.js" "$js/windkraft.js" "$js/build.mjs" "$js/package-lock.json" "$wit"; then
  say "componentize-js: windkraft-js"
  mkdir -p "$(dirname "$built")"
  (cd "$js" && node build.mjs "$built.tmp")
  mv "$built.tmp" "$built"
fi
publish windkraft-js "$built" "$js/plugin.toml"
