/**
 * File names are bytes on Linux, not text: a name written by a Latin-1 system (`M\xfcller.dcm`,
 * bytes 4d fc 6c 6c 65 72 ...) is not valid UTF-8, and Node's default decoding turns its `fc`
 * into U+FFFD, the same string as the valid UTF-8 name `M\u{fffd}ller.dcm`: two files, one
 * name. Paths inside etl are strings that keep the bytes instead, as Python's `surrogateescape`
 * does: valid UTF-8 is decoded as usual, and each byte that is not part of valid UTF-8 becomes
 * the lone surrogate U+DC00 + byte (U+DC80-U+DCFF). No valid UTF-8 decodes to a lone surrogate,
 * so the mapping is one to one, and structured clone (worker messages) and JSON keep it.
 *
 * - {@link decodeFsName}: bytes of a name, as the lister reads them, to such a string;
 * - {@link toFsPath}: the string back to what `fs` calls take (a Buffer of the original bytes
 *   when it holds escapes, else the string itself);
 * - {@link displayPath}: the string as text for people and CSV cells, unambiguous and inert on a
 *   terminal: valid UTF-8 as it is, each undecodable byte as `\xNN` (lower-case hex), each
 *   control character as `\xNN` (C0 and DEL) or `\u00NN` (C1), and a backslash as `\\`.
 */

/** Any surrogate code unit: the quick test that a string may hold an escaped byte. */
/**
 * Whether a string has no lone surrogate, that is no escaped byte (String.prototype.isWellFormed:
 * native in Node 20, ES2024, which the ES2022 lib this project compiles against does not declare).
 */
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

/** A character that {@link displayPath} writes out: a backslash or a control character. */
// eslint-disable-next-line no-control-regex
const WRITTEN_OUT = /[\\\x00-\x1f\x7f-\x9f]/

/**
 * The name a directory entry's bytes stand for: the UTF-8 text, with each byte that is not part
 * of valid UTF-8 as the lone surrogate U+DC00 + byte.
 */
export function decodeFsName(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  if (!text.includes('\uFFFD')) return text
  // Some bytes did not decode, or the name holds a real U+FFFD (EF BF BD): decode strictly.
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i)
    if (length === 0) {
      out += String.fromCharCode(0xdc00 + bytes[i])
      i++
    } else {
      out += Buffer.from(bytes.buffer, bytes.byteOffset + i, length).toString('utf8')
      i += length
    }
  }
  return out
}

/**
 * The length of the valid UTF-8 sequence that starts at `i` (Unicode 15, Table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 if none does.
 */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]
  if (c < 0x80) return 1
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0
  if (c >= 0xe0 && c <= 0xef) {
    const [lo, hi] = c === 0xe0 ? [0xa0, 0xbf] : c === 0xed ? [0x80, 0x9f] : [0x80, 0xbf]
    return cont(1, lo, hi) && cont(2) ? 3 : 0
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const [lo, hi] = c === 0xf0 ? [0x90, 0xbf] : c === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf]
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0
  }
  return 0
}

/** Whether the code unit at `i` of `s` is an escaped byte (a lone surrogate U+DC80-U+DCFF). */
function isEscapedByte(s: string, i: number): boolean {
  const c = s.charCodeAt(i)
  if (c < 0xdc80 || c > 0xdcff) return false
  const before = i > 0 ? s.charCodeAt(i - 1) : 0
  return !(before >= 0xd800 && before <= 0xdbff)
}

/**
 * What `fs` calls take for a path: the path itself when it is plain text, or a Buffer of its
 * original bytes when it holds escaped bytes (see {@link decodeFsName}).
 */
export function toFsPath(path: string): string | Buffer {
  if (wellFormed(path)) return path
  const parts: Buffer[] = []
  let start = 0
  for (let i = 0; i < path.length; i++) {
    if (!isEscapedByte(path, i)) continue
    if (i > start) parts.push(Buffer.from(path.slice(start, i), 'utf8'))
    parts.push(Buffer.of(path.charCodeAt(i) - 0xdc00))
    start = i + 1
  }
  if (start === 0) return path
  if (start < path.length) parts.push(Buffer.from(path.slice(start), 'utf8'))
  return Buffer.concat(parts)
}

/** Whether a code unit is a control character: C0 (U+0000-001F), DEL (U+007F) or C1 (U+0080-009F). */
function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f)
}

/** A control character written out: C0 and DEL as `\xNN`, C1 as `\u00NN`. */
function controlEscape(code: number): string {
  return `${code < 0x80 ? '\\x' : '\\u00'}${code.toString(16).padStart(2, '0')}`
}

/**
 * Text with each control character written out, so that it cannot drive a terminal (an escape
 * sequence, a carriage return over what was printed) or fake a line of its own (a line feed):
 * C0 and DEL as `\xNN` (`\x0a`, `\x1b`), C1 as `\u00NN` (`\u009b`), with two lower-case hex
 * digits. C1 is written apart from `\xNN` because {@link displayPath} writes an undecodable byte
 * 0x80-0x9F so; bytes below 0x80 are always valid UTF-8, so a C0 `\xNN` is never a byte's.
 */
export function escapeControls(text: string): string {
  let out = ''
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (!isControl(code)) continue
    out += text.slice(start, i) + controlEscape(code)
    start = i + 1
  }
  return start === 0 ? text : out + text.slice(start)
}

/**
 * A path as text for people and CSV cells: valid UTF-8 as it is, each byte of a name that is
 * not valid UTF-8 as `\xNN` (`M\xfcller.dcm`), each control character as `\xNN` or `\u00NN`
 * ({@link escapeControls}: a name holding a line feed or an escape sequence cannot fake a log
 * line or drive the terminal), and so that this stays unambiguous, each backslash doubled
 * (`a\b` is written `a\\b`).
 */
export function displayPath(path: string): string {
  if (!WRITTEN_OUT.test(path) && wellFormed(path)) return path
  let out = ''
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]
    const code = path.charCodeAt(i)
    if (ch === '\\') out += '\\\\'
    else if (isEscapedByte(path, i)) out += `\\x${(code - 0xdc00).toString(16)}`
    else if (isControl(code)) out += controlEscape(code)
    else out += ch
  }
  return out
}
