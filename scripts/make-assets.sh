#!/usr/bin/env bash
# Regenerates the WAV files under assets/ (shipped in the repo, so users and tests need no TTS).
# Needs Debian's `flite` (apt-get install -y flite). The `rms` voice is 16 kHz, 16-bit mono and the most
# intelligible of flite's voices (shared/spec/dependencies.md §7).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v flite >/dev/null || { echo "make-assets: flite not found; run: apt-get install -y flite" >&2; exit 1; }
mkdir -p assets
flite -voice rms -t "Hello voxgate. This is a test call. Can you hear me?" -o assets/hello.wav
ls -l assets/hello.wav
