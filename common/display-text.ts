import { z } from 'zod';

/**
 * Characters no display field accepts: control (Cc: NUL, escapes, C1), format (Cf: right-to-left override
 * U+202E, zero-width space/joiner U+200B–U+200D, BOM U+FEFF, …) and lone surrogates (Cs; a well-formed pair
 * is one code point and passes). Written with the `u` flag, which the OpenAPI document's Ajv check uses too.
 */
const INVISIBLE = String.raw`\p{Cc}\p{Cf}\p{Cs}`;
/** Single-line: none of {@link INVISIBLE}. */
const LINE = new RegExp(String.raw`^[^${INVISIBLE}]*$`, 'u');
/** Multi-line: line breaks (LF, CR) are the only controls allowed. */
const LINES = new RegExp(String.raw`^(?:[\n\r]|[^${INVISIBLE}])*$`, 'u');
/** At least one character that shows: not white space, a separator, a control, a format character or a surrogate. */
const VISIBLE = new RegExp(String.raw`[^\p{White_Space}\p{Z}${INVISIBLE}]`, 'u');

export interface DisplayTextOptions {
  /** Longest accepted length, in UTF-16 units (after trimming). */
  max: number;
  /** Shortest accepted length (default 1; 0 allows the empty string, which then needs no visible character). */
  min?: number;
  /** Descriptions, comments and reasons that may span lines: LF and CR are allowed, nothing else invisible. */
  multiline?: boolean;
}

/**
 * The one zod schema for text a person types and others read (names, titles, descriptions, category and token
 * names, reasons, comments): trimmed, bounded, no control or format characters or lone surrogates (a
 * right-to-left override can disguise a name; NUL and broken UTF-16 break logs and exports), and at least one
 * visible character. Used by every schema in `common/` and `api/` that accepts such a string, so a refusal is a
 * 400 problem body naming the field.
 */
export function displayText(opts: DisplayTextOptions) {
  const min = opts.min ?? 1;
  // The character check sees the text as sent (before trimming, which would drop a BOM at either end), as the
  // OpenAPI document's pattern does for the fuzzer's Ajv oracle.
  const text = z
    .string()
    .regex(
      opts.multiline ? LINES : LINE,
      opts.multiline ? 'must not contain control or invisible format characters (only line breaks)' : 'must not contain control or invisible format characters',
    )
    .trim()
    .min(min)
    .max(opts.max);
  return min === 0
    ? text.refine((s) => s === '' || VISIBLE.test(s), 'must contain a visible character')
    : text.regex(VISIBLE, 'must contain a visible character');
}
