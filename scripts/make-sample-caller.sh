#!/usr/bin/env bash
# Regenerates samples/caller-opening-hours.wav: a caller (Debian flite voice "kal16", not the voice Koe
# speaks with) asking for the opening hours and then saying goodbye, as 8 kHz μ-law phone audio.
# Needs: flite, sox.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/samples/caller-opening-hours.wav"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flite -voice kal16 -t "Hello. What are your opening hours?" -o "$tmp/1.wav"
flite -voice kal16 -t "Okay, thank you. Goodbye." -o "$tmp/2.wav"
sox -D -n -r 16000 -c 1 -b 16 "$tmp/gap.wav" trim 0 2.0
sox -D "$tmp/1.wav" "$tmp/gap.wav" "$tmp/2.wav" -r 8000 -e u-law -c 1 "$out"
echo "wrote $out"
