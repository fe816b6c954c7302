// Where each sentence of a spoken reply sits in its audio, so a truncate can keep exactly the words the
// listener heard: whole sentences that ended before the cut, and the share of the cut sentence's words.

export interface SpokenSentence {
  text: string;
  startMs: number;
  durationMs: number;
}

export function transcriptHeardUntil(sentences: readonly SpokenSentence[], audioEndMs: number): string {
  const kept: string[] = [];
  for (const sentence of sentences) {
    if (sentence.startMs >= audioEndMs) break;
    const endMs = sentence.startMs + sentence.durationMs;
    if (endMs <= audioEndMs) {
      kept.push(sentence.text.trim());
      continue;
    }
    const words = sentence.text.trim().split(/\s+/);
    const share = (audioEndMs - sentence.startMs) / Math.max(1, sentence.durationMs);
    const count = Math.floor(words.length * share);
    if (count > 0) kept.push(words.slice(0, count).join(' '));
    break;
  }
  return kept.join(' ');
}
