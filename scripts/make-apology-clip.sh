#!/usr/bin/env bash
# Regenerates assets/apology-en.ulaw: the line Koe plays when it cannot reach the voice model.
# Raw μ-law, 8 kHz, mono, no header (what a Twilio media stream carries), with a short fade at both
# ends of the speech and 100 ms of μ-law silence (0xFF) before and after it.
#
# Needs the Debian packages flite and sox (apt-get install flite sox). The output is deterministic for
# a given flite build: the synthesis has no randomness and sox runs without dither (-D).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/assets/apology-en.ulaw"
text="Sorry, we're having technical trouble connecting your call. Please try again later. Goodbye."
voice="${APOLOGY_VOICE:-slt}"

for tool in flite sox; do
  command -v "$tool" >/dev/null || { echo "make-apology-clip: $tool not found (apt-get install flite sox)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

flite -voice "$voice" -t "$text" -o "$tmp/speech.wav"

# Trim flite's leading and trailing silence (a pass of its own: fade needs the trimmed length),
# keep the telephone band, bring the peak to -3 dBFS, fade in 20 ms and out 60 ms, and resample to
# 8 kHz μ-law with sox's high-quality resampler.
sox "$tmp/speech.wav" -D "$tmp/trimmed.wav" silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
sox "$tmp/trimmed.wav" -D -t raw -r 8000 -c 1 -e mu-law -b 8 "$tmp/speech.ulaw" \
  highpass 120 gain -n -3 fade h 0.02 -0 0.06 rate -v 8000

silence_100ms() { head -c 800 /dev/zero | tr '\0' '\377'; }
mkdir -p "$root/assets"
{ silence_100ms; cat "$tmp/speech.ulaw"; silence_100ms; } >"$out"

bytes="$(stat -c %s "$out")"
echo "wrote $out: $bytes bytes, $(awk "BEGIN { printf \"%.2f\", $bytes / 8000 }") s"
