// The crisis rule: a caller who mentions suicide, wanting to die, self-harm or being in danger is answered
// with care and the emergency numbers from the agent's own instructions, before anything else. Detection
// leans towards answering: a needless caring reply costs little, a missed one may cost a life.
import type { EmergencyContact, ReplyLanguage } from './agent-profile.js';
import { findPhrase, normalizeUtterance, wordsOf } from './spoken-words.js';

const ENGLISH_PHRASES = [
  'suicide', 'suicidal', 'kill myself', 'kill my self', 'killing myself', 'killing my self', 'kill meself', 'end my life',
  'ending my life', 'end it all', 'take my life', 'take my own life', 'want to die', 'wanna die', 'going to die tonight',
  'wish i was dead', 'wish i were dead', 'want to be dead', 'better off dead', "don't want to live", 'do not want to live',
  "don't want to be alive", 'no reason to live', 'not worth living', 'hurt myself', 'hurting myself', 'harm myself',
  'harming myself', 'self harm', 'cut myself', 'cutting myself', 'overdose', 'hang myself', 'jump off', 'in danger',
  'going to kill me', 'gonna kill me', 'going to hurt me', 'gonna hurt me', 'trying to kill me', 'is hurting me',
  'afraid for my life', 'not safe at home', 'threatening to kill', 'he hits me', 'she hits me',
].map(wordsOf);
const JAPANESE_PHRASES = [
  '死にたい', '死のう', '死んでしまいたい', '消えたい', '自殺', '生きていたくない', '生きていたくありません', '殺される', '殺されそう',
  '自傷', 'リストカット', '手首を切', '飛び降り', '命の危険', '身の危険', '首をつ', 'オーバードーズ', '暴力を振るわれ',
];

export function mentionsCrisis(utterance: string): boolean {
  const normalized = normalizeUtterance(utterance);
  if (JAPANESE_PHRASES.some((p) => normalized.includes(p))) return true;
  const words = wordsOf(utterance);
  return ENGLISH_PHRASES.some((phrase) => findPhrase(words, phrase) >= 0);
}

/** The caring reply with the agent's numbers; ends by asking whether the caller is safe (a yes/no). */
export function crisisReply(contacts: readonly EmergencyContact[], language: ReplyLanguage): string {
  const emergency = contacts.filter((c) => c.kind === 'emergency');
  const support = contacts.filter((c) => c.kind === 'support');
  if (language === 'ja') {
    const parts = ['話してくださって、ありがとうございます。あなたのことが、とても大切です。'];
    if (emergency.length > 0) {
      const lines = emergency.map((c) => (c.when !== undefined ? `${c.when}${c.literal}` : c.literal));
      parts.push(
        emergency.every((c) => c.when !== undefined)
          ? `${lines.join('、')}に、すぐ電話してください。`
          : `いま危険があるときは、${lines.join('か、')}に、すぐ電話してください。`,
      );
    } else parts.push('いま危険があるときは、すぐに警察か救急に電話してください。');
    if (support.length > 0) {
      const lines = support.map((c) => (c.when !== undefined ? `${c.when}${c.literal}` : c.literal));
      parts.push(
        support.every((c) => c.when !== undefined)
          ? `${lines.join('、')}にも、電話できます。`
          : `つらい気持ちを話したいときは、${lines.join('や、')}にも、電話できます。`,
      );
    }
    parts.push('いま、安全な場所にいらっしゃいますか。');
    return parts.join('');
  }
  const parts = ["I'm really glad you told me, and I'm so sorry you're going through this. Your safety matters most right now."];
  if (emergency.length > 0) parts.push(`If you are in danger, please call ${joinOr(emergency.map(englishEmergency))} right away.`);
  else parts.push('If you are in danger, please call your local emergency number right away.');
  if (support.length > 0) parts.push(`You can also call ${joinOr(support.map(englishSupport))}, any time, to talk to someone.`);
  parts.push('Are you safe right now?');
  return parts.join(' ');
}

/** After "are you safe?": a yes. */
export function crisisSafeReply(language: ReplyLanguage): string {
  return language === 'ja'
    ? '安全な場所にいらっしゃるのですね。よかったです。わたしはここで、お話をお聴きしています。よろしければ、いま感じていることを聞かせてください。'
    : "I'm glad you're safe right now. I'm here, and I'm listening. Would you like to tell me what's been happening?";
}

/** After "are you safe?": a no. The numbers again, short. */
export function crisisUnsafeReply(contacts: readonly EmergencyContact[], language: ReplyLanguage): string {
  const emergency = contacts.filter((c) => c.kind === 'emergency');
  if (language === 'ja') {
    const numbers = emergency.length > 0 ? emergency.map((c) => c.literal).join('か、') : '警察か救急';
    return `どうか、いますぐ${numbers}に電話してください。近くにいる人に、助けを求めてください。あなたの命は、とても大切です。`;
  }
  const numbers = emergency.length > 0 ? joinOr(emergency.map(englishEmergency)) : 'your local emergency number';
  return `Please call ${numbers} right now, or ask someone near you to call for you. Your life matters, and help is there for you.`;
}

function englishEmergency(contact: EmergencyContact): string {
  const label = contact.label;
  if (label === undefined || !/^[\x20-\x7e]+$/.test(label) || /emergenc/i.test(label)) return contact.number;
  return `${contact.number} (${label})`;
}

function englishSupport(contact: EmergencyContact): string {
  if (contact.label === undefined || !/^[\x20-\x7e]+$/.test(contact.label)) return contact.number;
  return `the ${contact.label.replace(/^the\s+/i, '')} on ${contact.number}`;
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1) as string}`;
}
