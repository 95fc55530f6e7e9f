import { readFileSync } from 'node:fs'
import { DaroogheError } from '../errors.ts'

/** One `key=value` of a properties file, with where it was written. */
export interface Property {
  readonly key: string
  readonly value: string
  /** The file as the user named it. */
  readonly file: string
  /** 1-based line of the key (the first line of a continued entry). */
  readonly line: number
}

/**
 * Parses Java `.properties` text, the format the Java client's `--command-config` and
 * librdkafka / kcat `-F` read:
 *
 *   - a logical line is `key=value`, `key: value` or `key value`; whitespace around the
 *     separator is dropped, and so is whitespace at the start of the line;
 *   - a line whose first non-blank character is `#` or `!` is a comment; blank lines are skipped;
 *   - a line ending in an odd number of backslashes continues on the next line, whose leading
 *     whitespace is dropped;
 *   - `\t \n \r \f \uXXXX` are escapes, and a backslash before any other character stands for
 *     that character (`\=`, `\:`, `\ `, `\#`, `\\`).
 *
 * One deliberate difference from Java: unescaped trailing whitespace of a value is dropped
 * (as librdkafka does), since a stray space after a password is nearly always a mistake;
 * write `\ ` to keep one. A key given twice keeps its last value, as in Java.
 */
export function parseProperties(text: string, file: string): Property[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)
  const out: Property[] = []
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1
    let logical = lines[i]!.replace(/^[ \t\f]+/, '')
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue
    while (endsInContinuation(logical) && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '')
    }
    if (endsInContinuation(logical)) logical = logical.slice(0, -1)
    const { key, value } = splitEntry(logical, file, first)
    out.push(Object.freeze({ key, value, file, line: first }))
  }
  return out
}

/** Reads and parses a properties file; a missing or unreadable file is one line naming it. */
export function readProperties(path: string, what: string): Property[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new DaroogheError(
      'CONFIG',
      `${what}: cannot read '${path}' (${(cause as NodeJS.ErrnoException).code ?? 'error'}): give the path of a readable properties file`,
      { cause }
    )
  }
  return parseProperties(text, path)
}

function endsInContinuation(line: string): boolean {
  let n = 0
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++
  return n % 2 === 1
}

interface Char {
  readonly c: string
  readonly escaped: boolean
}

/** Decodes the escapes of a logical line into characters that remember whether they were escaped. */
function decode(raw: string, file: string, line: number): Char[] {
  const out: Char[] = []
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    if (c !== '\\') {
      out.push({ c, escaped: false })
      continue
    }
    const next = raw[++i]
    if (next === undefined) break
    if (next === 'u') {
      const hex = raw.slice(i + 1, i + 5)
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw new DaroogheError(
          'CONFIG',
          `${file}:${line}: malformed \\u escape '\\u${hex}': write four hex digits, e.g. \\u00e9`
        )
      }
      out.push({ c: String.fromCharCode(parseInt(hex, 16)), escaped: true })
      i += 4
      continue
    }
    const named: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' }
    out.push({ c: named[next] ?? next, escaped: true })
  }
  return out
}

const isBlank = (ch: Char | undefined): boolean =>
  ch !== undefined && !ch.escaped && (ch.c === ' ' || ch.c === '\t' || ch.c === '\f')

function splitEntry(raw: string, file: string, line: number): { key: string; value: string } {
  const chars = decode(raw, file, line)
  let i = 0
  let key = ''
  for (; i < chars.length; i++) {
    const ch = chars[i]!
    if (!ch.escaped && (ch.c === '=' || ch.c === ':' || isBlank(ch))) break
    key += ch.c
  }
  while (isBlank(chars[i])) i++
  const sep = chars[i]
  if (sep && !sep.escaped && (sep.c === '=' || sep.c === ':')) i++
  while (isBlank(chars[i])) i++
  let end = chars.length
  while (end > i && isBlank(chars[end - 1])) end--
  return {
    key,
    value: chars
      .slice(i, end)
      .map(ch => ch.c)
      .join('')
  }
}
