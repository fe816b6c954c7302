// Cutting a reply into sentences for streaming: the engine's speech step speaks each `text.delta` as it
// comes, so one sentence per delta lets the first sentence play while later ones are synthesised.
// The pieces concatenate back to the exact text (spaces stay at the start of the next piece).

const SENTENCE = /[^.!?。！？]*(?:[.!?。！？]+["')\]」』]*|$)/gu;

export function splitSentences(text: string): string[] {
  const pieces: string[] = [];
  for (const match of text.matchAll(SENTENCE)) {
    const piece = match[0];
    if (piece === '') continue;
    // "9.30" and "e.g." are not sentence ends: a terminator must be followed by a space, an end or CJK text.
    const last = pieces.at(-1);
    if (last !== undefined && /[.]$/.test(last) && !/^\s/.test(piece) && !/^[\u3000-\u9fff]/u.test(piece)) {
      pieces[pieces.length - 1] = last + piece;
    } else pieces.push(piece);
  }
  return pieces;
}
