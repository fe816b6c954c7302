// Flite reads plain ASCII. Model replies bring typographic punctuation, accents and a little Markdown;
// map what can be said and drop the rest.

const REPLACEMENTS: readonly [RegExp, string][] = [
  [/[‘’‚′]/g, "'"],
  [/[“”„″]/g, '"'],
  [/[–—―]/g, ', '],
  [/…/g, '...'],
  [/[•·]/g, ', '],
  [/€/g, ' euros '],
  [/£/g, ' pounds '],
  [/&/g, ' and '],
  [/%/g, ' percent '],
  [/\u00a0/g, ' '],
];

/** Model text without its Markdown: code, link targets, emphasis marks, headings and list bullets. */
export function withoutMarkdown(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__|\*|_|~~)(\S[^*_~]*?)\1/g, '$2')
    .replace(/^\s*(#+|[-*+]|\d+[.)])\s+/gm, '');
}

/** One sentence of model text → text Flite can speak (ASCII, no Markdown). */
export function toFliteText(sentence: string): string {
  let text = withoutMarkdown(sentence);
  for (const [pattern, replacement] of REPLACEMENTS) text = text.replace(pattern, replacement);
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/[*_#<>{}[\]|\\^~`]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
