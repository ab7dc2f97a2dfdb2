/** `{{ name }}` in a text (spaces inside the braces allowed). */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/g;

/** The longest value a merge field puts into a text; a longer metadata value is cut there. */
export const MAX_FIELD_VALUE = 200;

/** The field names a text uses, in order of first use. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/**
 * A metadata value as it may be spoken: text or a number, control characters and lone surrogates (which XML cannot
 * carry) replaced by spaces, whitespace collapsed, cut at MAX_FIELD_VALUE. Markup characters stay as they are: the
 * TwiML writer escapes them, so a value is always spoken as text and never changes the document.
 */
export function speakableValue(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '';
  const text = String(value)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\ufffe\uffff]/g, ' ')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return [...text].slice(0, MAX_FIELD_VALUE).join('').trim();
}

/** Metadata of a target: the extra columns of its import row. */
export type TargetMetadata = Readonly<Record<string, unknown>>;

/**
 * `text` with each `{{field}}` replaced by the target's value for it, or the field's fallback when the target has
 * none (or only whitespace). A field the flow did not declare is replaced by nothing (a saved flow has none).
 */
export function fillMergeFields(
  text: string,
  fields: readonly { name: string; fallback: string }[],
  metadata: TargetMetadata,
): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = Object.hasOwn(metadata, name) ? speakableValue(metadata[name]) : '';
    if (value) return value;
    return fields.find((f) => f.name === name)?.fallback ?? '';
  });
}
