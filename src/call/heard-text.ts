// Estimates the part of a reply's transcript the caller heard before a barge-in.
// The model reports no word timings, so the cut is proportional to the audio heard, rounded down to a
// word boundary (or a character for scripts written without spaces, such as Japanese).

const SPACELESS_SCRIPT = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]/u;

export function estimateHeardText(text: string, heardMs: number, audioMs: number): string {
  if (audioMs <= 0 || heardMs <= 0) return '';
  if (heardMs >= audioMs) return text;
  const chars = [...text];
  const cut = Math.floor((chars.length * heardMs) / audioMs);
  if (cut <= 0) return '';
  const prefix = chars.slice(0, cut).join('');
  if (SPACELESS_SCRIPT.test(prefix)) return prefix.trimEnd();
  // Inside a word: drop the partial word.
  const next = chars[cut];
  if (next !== undefined && !/\s/u.test(next)) {
    const lastSpace = prefix.search(/\s\S*$/u);
    return lastSpace < 0 ? '' : prefix.slice(0, lastSpace).trimEnd();
  }
  return prefix.trimEnd();
}
