#!/usr/bin/env bash
# Installs the system libraries WeasyPrint needs (Pango, fonts) when they are missing.
# With --browser, also Chromium and npm, which the browser tests need (`make test`).
set -euo pipefail

# Read once into variables: `cmd | grep -q` under pipefail fails at random when grep stops
# reading early and cmd dies of SIGPIPE, which would reinstall packages that are present.
libraries="$(ldconfig -p 2>/dev/null || true)"
fonts="$(fc-list 2>/dev/null || true)"

missing=()
grep -q 'libpango-1.0.so' <<<"$libraries" || missing+=(libpango-1.0-0)
grep -q 'libpangoft2-1.0.so' <<<"$libraries" || missing+=(libpangoft2-1.0-0)
# Without HarfBuzz's subsetter WeasyPrint falls back to a much slower font library.
grep -q 'libharfbuzz-subset.so' <<<"$libraries" || missing+=(libharfbuzz-subset0)
grep -qi 'DejaVu Sans' <<<"$fonts" || missing+=(fonts-dejavu-core)
# Comments come in any script: Noto for Arabic, Hebrew, Devanagari and the rest DejaVu
# lacks, Chinese, Japanese and Korean, and emoji (the report's font list names them).
grep -qi 'Noto Sans Arabic' <<<"$fonts" || missing+=(fonts-noto-core)
grep -qi 'Noto Sans CJK' <<<"$fonts" || missing+=(fonts-noto-cjk)
grep -qi 'Noto Color Emoji' <<<"$fonts" || missing+=(fonts-noto-color-emoji)
if [ "${1:-}" = "--browser" ]; then
  # Playwright cannot download its own browsers here, so the tests drive Debian's Chromium.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # npm installs axe-core, the accessibility checker the browser tests run on each page.
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
else
  echo "Please install with your package manager: ${missing[*]}" >&2
  echo "(Pango 1.44 or newer, the DejaVu fonts and Noto's core, CJK and colour emoji" \
    "fonts; for the tests, Chromium at" \
    "/usr/bin/chromium and npm.)" >&2
  exit 1
fi
