// Prompt templates: `{{variable}}` placeholders filled per call. A missing variable is an error that
// names every missing one, so an unfilled placeholder never reaches the model.

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'var'; name: string };

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly missing: string[] = [],
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const index = match.index;
    if (index > last) parts.push({ kind: 'text', text: template.slice(last, index) });
    parts.push({ kind: 'var', name: match[1] as string });
    last = index + match[0].length;
  }
  if (last < template.length) parts.push({ kind: 'text', text: template.slice(last) });
  for (const part of parts) {
    if (part.kind === 'text' && (part.text.includes('{{') || part.text.includes('}}'))) {
      const at = template.indexOf(part.text);
      throw new TemplateError(
        `malformed placeholder near "${template.slice(at, at + 40)}": use {{name}} with a letter first`,
      );
    }
  }
  return parts;
}

export function templateVariables(template: string): string[] {
  return [...new Set(parseTemplate(template).flatMap((p) => (p.kind === 'var' ? [p.name] : [])))];
}

/** Fills every placeholder; throws TemplateError naming all missing variables (what: for the message). */
export function renderTemplate(template: string, variables: Readonly<Record<string, string>>, what = 'template'): string {
  const parts = parseTemplate(template);
  const missing = [
    ...new Set(parts.flatMap((p) => (p.kind === 'var' && variables[p.name] === undefined ? [p.name] : []))),
  ];
  if (missing.length > 0) {
    throw new TemplateError(
      `${what} needs ${missing.map((m) => `{{${m}}}`).join(', ')} but the call has no value for ${missing.length === 1 ? 'it' : 'them'}`,
      missing,
    );
  }
  return parts.map((p) => (p.kind === 'text' ? p.text : (variables[p.name] as string))).join('');
}
