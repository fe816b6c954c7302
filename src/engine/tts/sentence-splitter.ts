// Cuts streamed reply text into sentences as soon as each one is complete, so speech can start while the
// model is still writing. A boundary is a terminator (. ! ? …) followed by whitespace, a full-width
// terminator (。！？, which Japanese and Chinese write without a space after it), or a line break.
// "Dr. Smith", "e.g. this", initials and decimals ("3.5") are not boundaries. A run-on text is cut at a
// comma or space once it grows past `maxChars`, which bounds the wait before speech.

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'dept', 'inc', 'ltd', 'co', 'mt', 'ft', 'jan', 'feb',
  'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'a.m', 'p.m', 'u.s',
]);

export interface SentenceSplitterOptions {
  /** A sentence longer than this is cut at the last comma or space before it. Default 250. */
  maxChars?: number;
}

export class SentenceSplitter {
  readonly #maxChars: number;
  #buffer = '';

  constructor(options: SentenceSplitterOptions = {}) {
    this.#maxChars = options.maxChars ?? 250;
    if (!(this.#maxChars >= 20)) throw new RangeError(`maxChars must be at least 20, got ${this.#maxChars}`);
  }

  /** Adds text; returns the sentences it completed. */
  push(text: string): string[] {
    this.#buffer += text;
    const sentences: string[] = [];
    for (;;) {
      const cut = this.#nextBoundary();
      if (cut === undefined) break;
      this.#take(cut, sentences);
    }
    while (this.#buffer.length > this.#maxChars) this.#take(this.#forcedCut(), sentences);
    return sentences;
  }

  /** Returns whatever is left as the last sentence(s). */
  flush(): string[] {
    const sentences: string[] = [];
    while (this.#buffer.length > this.#maxChars) this.#take(this.#forcedCut(), sentences);
    this.#take(this.#buffer.length, sentences);
    return sentences;
  }

  #take(cut: number, into: string[]): void {
    const sentence = this.#buffer.slice(0, cut).replace(/\s+/g, ' ').trim();
    this.#buffer = this.#buffer.slice(cut);
    // Nothing to say in "…" or "**": skip it.
    if (/[\p{L}\p{N}]/u.test(sentence)) into.push(sentence);
  }

  #nextBoundary(): number | undefined {
    const text = this.#buffer;
    const pattern = /(\n\s*)|([.!?…]+["'”’)\]]*)(?=\s)|([。！？]+[」』”’）)]*)/g;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      if (match[1] !== undefined || match[3] !== undefined) return match.index + match[0].length;
      const end = match.index + match[0].length;
      if (match[2]?.startsWith('.') && match[2].length === 1 && this.#isAbbreviation(text, match.index)) continue;
      return end;
    }
    return undefined;
  }

  #isAbbreviation(text: string, dotIndex: number): boolean {
    const before = /([\p{L}.]+)$/u.exec(text.slice(0, dotIndex))?.[1]?.toLowerCase() ?? '';
    if (before.length === 1) return true; // an initial: "J. Smith"
    return ABBREVIATIONS.has(before);
  }

  #forcedCut(): number {
    const window = this.#buffer.slice(0, this.#maxChars);
    const comma = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '), window.lastIndexOf('、'), window.lastIndexOf('，'));
    if (comma > this.#maxChars / 3) return comma + 1;
    const space = window.lastIndexOf(' ');
    return space > 0 ? space : this.#maxChars;
  }
}
