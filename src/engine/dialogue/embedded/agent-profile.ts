// What the embedded engine can learn about the agent from its instructions alone: who it is (name, role,
// organisation), its opening hours, whether it is a listening/counselling line, its reply language, and
// the emergency numbers it was told to give a caller in danger. Plain pattern reading, no model: the
// instructions are prose written for an LLM, and these are the facts a phone agent needs most.
import { isMostlyJapanese } from './spoken-words.js';

export type AgentStyle = 'receptionist' | 'counselling';
export type ReplyLanguage = 'en' | 'ja';

export interface EmergencyContact {
  /** The number as written: "110", "0570-064-556", "116 123". */
  number: string;
  /** What the instructions call it: "警察", "Suicide and Crisis Lifeline", "emergencies". */
  label?: string;
  /** Immediate danger (police, ambulance) or someone to talk to (a lifeline). */
  kind: 'emergency' | 'support';
  /** The Japanese condition written before it, e.g. "急病やけがのときは". */
  when?: string;
  /** Label and number exactly as written, e.g. "110番(警察)" or "「いのちの電話」0570-064-556". */
  literal: string;
}

export interface AgentProfile {
  name?: string;
  role?: string;
  organisation?: string;
  /** How the instructions tie the role to the organisation: "of", "at", "for". */
  preposition?: string;
  openingHours?: string;
  style: AgentStyle;
  language: ReplyLanguage;
  emergencyContacts: EmergencyContact[];
}

export function readAgentProfile(instructions: string, languageHint: string | undefined): AgentProfile {
  const japanese = isMostlyJapanese(instructions);
  const identity = japanese ? readJapaneseIdentity(instructions) : readEnglishIdentity(instructions);
  const profile: AgentProfile = {
    ...identity,
    style: looksLikeCounselling(instructions) ? 'counselling' : 'receptionist',
    language: languageHint?.toLowerCase().startsWith('ja') === true || japanese ? 'ja' : 'en',
    emergencyContacts: readEmergencyContacts(instructions),
  };
  const hours = readOpeningHours(instructions);
  if (hours !== undefined) profile.openingHours = hours;
  return profile;
}

// ---- identity -------------------------------------------------------------------------------------------

const ROLE_ADJECTIVES = new Set(
  (
    'friendly helpful polite warm kind professional cheerful courteous patient experienced caring calm virtual ai automated ' +
    'efficient knowledgeable empathetic gentle compassionate trained attentive upbeat concise witty smart digital english ' +
    'japanese bilingual new main senior junior outbound inbound'
  ).split(' '),
);

function readEnglishIdentity(instructions: string): Pick<AgentProfile, 'name' | 'role' | 'organisation' | 'preposition'> {
  const out: Pick<AgentProfile, 'name' | 'role' | 'organisation' | 'preposition'> = {};
  // "a calm and caring listener": adjectives joined by "and" belong to the role, not the end of it.
  const text = instructions.replace(/\b([A-Za-z]+),?\s+and\s+([A-Za-z]+)\b/g, (all: string, a: string, b: string) =>
    ROLE_ADJECTIVES.has(a.toLowerCase()) && ROLE_ADJECTIVES.has(b.toLowerCase()) ? `${a} ${b}` : all,
  );
  const youAre = text.match(
    /\byou are\s+(?:([A-Z][\w'-]+),?\s+)?(?:an?|the)\s+([^,.;:\n]+?)(?:\s+(of|at|for|with|from)\s+([^,.;:\n]+?))?(?=\s*[,.;:\n]|\s+(?:and|who|answering|that|which|where|taking|handling|on)\b|$)/i,
  );
  if (youAre) {
    if (youAre[1] !== undefined && !/^(?:a|an|the)$/i.test(youAre[1])) out.name = youAre[1];
    const roleWords = (youAre[2] as string).split(/\s+/);
    while (roleWords.length > 1 && ROLE_ADJECTIVES.has((roleWords[0] as string).toLowerCase().replace(/,$/, ''))) roleWords.shift();
    const role = roleWords.join(' ').replace(/,/g, '');
    if (role !== '' && roleWords.length <= 5) out.role = role;
    if (youAre[4] !== undefined) {
      out.organisation = youAre[4].trim();
      out.preposition = (youAre[3] as string).toLowerCase();
    }
  }
  if (out.organisation === undefined) {
    const org = text.match(
      /\b(?:answer(?:ing)?\s+(?:the\s+)?(?:phone|phones|calls)\s+(?:for|at)|work(?:ing)?\s+(?:at|for)|on behalf of|calling from)\s+((?:the\s+)?[A-Z][^,.;:\n]*?)(?=\s*[,.;:\n]|\s+(?:and|who|that|which)\b|$)/,
    );
    if (org) out.organisation = (org[1] as string).trim();
  }
  return out;
}

function readJapaneseIdentity(instructions: string): Pick<AgentProfile, 'name' | 'role' | 'organisation'> {
  const out: Pick<AgentProfile, 'name' | 'role' | 'organisation'> = {};
  const match = instructions.match(/あなたは([^。\n]+?)の([^。\n、の]{1,16}?)(?:です|だ|として|を務め)/u);
  if (match) {
    const orgPart = match[1] as string;
    const bracketed = orgPart.match(/[「『]([^」』]+)[」』]/u);
    out.organisation = bracketed ? (bracketed[1] as string) : orgPart.trim();
    out.role = (match[2] as string).trim();
  }
  return out;
}

// ---- style, hours ---------------------------------------------------------------------------------------

/** Words that make a line a listening line on their own, and words that need company. */
const COUNSELLING_STRONG = /counsel|support line|helpline|help line|listening line|crisis line|hotline|emotional support|相談員|相談窓口|悩み相談|傾聴|いのちの電話/iu;
const COUNSELLING_WEAK = /\blisten|\bfeelings|\bemotion|\bempath|\bwellbeing|\bwell-being|\blonely|相談|気持ち|受け止め/giu;

export function looksLikeCounselling(instructions: string): boolean {
  if (COUNSELLING_STRONG.test(instructions)) return true;
  return (instructions.match(COUNSELLING_WEAK)?.length ?? 0) >= 2;
}

function readOpeningHours(instructions: string): string | undefined {
  const text = instructions.replace(/\b([ap])\.m\./gi, '$1m');
  const patterns = [
    /\b(?:opening|office|business|clinic|store|shop|our)\s+hours\s*(?:are|is|:|-)\s*([^\n]+?)(?=\.\s|\.$|\n|$)/i,
    /\bhours\s*(?:are|:)\s*([^\n]+?)(?=\.\s|\.$|\n|$)/i,
    /\bwe(?:'re| are)\s+open\s+([^\n]+?)(?=\.\s|\.$|\n|$)/i,
    /\bopen\s+((?:from\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekdays|daily|every day|24)[^\n]*?)(?=\.\s|\.$|\n|$)/i,
    /(?:営業時間|受付時間|診療時間|開館時間|相談時間)\s*(?:は|:|:)\s*([^。\n]+)/u,
  ];
  for (const pattern of patterns) {
    const match = text.match(pattern);
    const hours = match?.[1]
      ?.trim()
      .replace(/[.。]$/u, '')
      .replace(/(?:です|でございます|となります|になります)$/u, '');
    if (hours !== undefined && hours !== '' && !/\{\{/.test(hours)) return hours;
  }
  return undefined;
}

// ---- emergency numbers ----------------------------------------------------------------------------------

const DANGER_CONTEXT =
  /emergenc|danger|suicid|crisis|police|ambulance|fire|lifeline|life line|helpline|hotline|samaritan|self-harm|self harm|harm|safety|unsafe|kill|die\b|危険|緊急|警察|救急|消防|命|いのち|自殺|死にたい|自傷/iu;
const SUPPORT_LABEL = /lifeline|life line|crisis|samaritan|helpline|help line|hotline|support|talk|text|chat|counsel|いのち|相談|話/iu;
const EMERGENCY_LABEL = /emergenc|police|ambulance|fire|警察|救急|消防|緊急|110|119|911|999|112/iu;
const NUMBER = /(?<![\d+])(\+?\d[\d\- ]{5,}\d|\d{2,4}(?=番)|\d{3})(?![\d:])/gu;

/**
 * Phone numbers and short codes written in a danger/emergency context (the line itself or the two before
 * it mention danger, emergency, suicide, a lifeline...). Dates, times and amounts are skipped.
 */
export function readEmergencyContacts(instructions: string): EmergencyContact[] {
  const lines = instructions.split(/\r?\n/);
  const contacts: EmergencyContact[] = [];
  const seen = new Set<string>();
  lines.forEach((line, index) => {
    const context = lines.slice(Math.max(0, index - 2), index + 1).join(' ');
    if (!DANGER_CONTEXT.test(context)) return;
    for (const match of line.matchAll(NUMBER)) {
      const number = (match[1] as string).trim();
      const start = match.index;
      const end = start + (match[0] as string).length;
      const after = line.slice(end);
      const before = line.slice(0, start);
      if (/^\d{4}-\d{1,2}-\d{1,2}$/.test(number) || /^\d{4}$/.test(number)) continue;
      if (/^\s*(?:am|pm|a\.m|p\.m|時|分|円|%|yen|dollars|minutes|hours|days|years|seconds)/iu.test(after)) continue;
      if (/[$¥€£]\s*$/u.test(before)) continue;
      const digits = number.replace(/\D/g, '');
      if (seen.has(digits)) continue;
      seen.add(digits);
      contacts.push(describeNumber(number, before, after));
    }
  });
  return contacts;
}

function describeNumber(number: string, before: string, after: string): EmergencyContact {
  let label: string | undefined;
  let literalBefore = '';
  let literalAfter = '';
  const ban = after.match(/^番/u);
  if (ban) literalAfter += '番';
  const rest = after.slice(literalAfter.length);
  const paren = rest.match(/^\s*[((]([^))]{1,40})[))]/u);
  const bracketBefore = before.match(/[「『]([^」』]{1,30})[」』]\s*$/u);
  const capitalisedBefore = before.match(
    /(?:the\s+)?((?:[A-Z][\w'&-]*)(?:\s+(?:and|&|of|for)?\s*[A-Z][\w'&-]*){0,5})\s*(?:on|at|:|-|–|—)?\s*$/,
  );
  const capitalisedAfter = rest.match(/^\s*[,–—-]\s*(?:the\s+)?([A-Z][\w'&-]*(?:\s+(?:and|&|of|for)?\s*[A-Z][\w'&-]*){0,5})/);
  const forAfter = rest.match(/^\s+for\s+(?:an?\s+|the\s+)?([a-z][a-z ]{2,30}?)(?=[,.;)]|\s+(?:and|or)\b|$)/i);
  if (paren) {
    label = (paren[1] as string).trim();
    literalAfter += (paren[0] as string).trim();
  } else if (bracketBefore) {
    label = bracketBefore[1] as string;
    literalBefore = (bracketBefore[0] as string).trim();
  } else if (capitalisedAfter) label = (capitalisedAfter[1] as string).trim();
  else if (capitalisedBefore && !/^(?:Call|Dial|Ring|Phone|Text|If|Or|And|Tell|Give)$/i.test(capitalisedBefore[1] as string)) {
    label = (capitalisedBefore[1] as string).replace(/^(?:Call|Dial|Ring|Phone|Text)\s+/i, '').trim();
  } else if (forAfter) label = (forAfter[1] as string).trim();
  const clauseStart = Math.max(before.lastIndexOf('、'), before.lastIndexOf(':'), before.lastIndexOf(':'), before.lastIndexOf('。'));
  const clause = before.slice(clauseStart + 1);
  const whenMatch = clause.replace(/[「『][^」』]*[」』]\s*$/u, '').match(/([^、。::]*?(?:ときは|時は|場合は|ときには|なら))\s*$/u);
  const digits = number.replace(/\D/g, '');
  const kind: EmergencyContact['kind'] =
    label !== undefined && SUPPORT_LABEL.test(label) && !EMERGENCY_LABEL.test(label)
      ? 'support'
      : label !== undefined && EMERGENCY_LABEL.test(label)
        ? 'emergency'
        : digits.length <= 3
          ? 'emergency'
          : 'support';
  const contact: EmergencyContact = { number, kind, literal: `${literalBefore}${number}${literalAfter}` };
  if (label !== undefined) contact.label = label;
  if (whenMatch) contact.when = (whenMatch[1] as string).trim();
  return contact;
}
