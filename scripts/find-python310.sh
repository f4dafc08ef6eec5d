#!/usr/bin/env bash
# Prints a Python 3.10 interpreter for the Rasa environment: on PATH, under pyenv, or from uv.
set -euo pipefail
for cand in python3.10; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    command -v "$cand"; exit 0
  fi
done
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -V -r); do
    p="$(pyenv root)/versions/$v/bin/python"
    [ -x "$p" ] && { echo "$p"; exit 0; }
  done
fi
if ! command -v uv >/dev/null 2>&1; then
  echo "Python 3.10 not found; installing uv to fetch it" >&2
  python3 -m pip install -q --user uv >&2 || python3 -m pip install -q uv >&2
  export PATH="$HOME/.local/bin:$PATH"
fi
uv python install 3.10 >&2
uv python find 3.10
