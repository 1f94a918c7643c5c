/**
 * DomainTrie entries before they are stored: the form they must have (list
 * files are validated by the parser before a trie is built, so a bad entry
 * here is a programming error and throws DNSVAKT_ERR_BLOCKLIST), and the most
 * room they can take.
 */
import { DnsvaktError } from '../errors.js'

const DOT = 0x2e
/** Longest name in presentation form without the trailing dot (RFC 1035 s2.3.4 gives 255 octets on the wire). */
const MAX_NAME = 253
const MAX_LABEL = 63

/** Lower-cases, drops one trailing dot, and checks for labels of 1-63 printable ASCII characters (a loop: 3x a regex). */
export function normaliseEntry(raw: string): string {
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw
  let labelLength = 0
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === DOT ? labelLength === 0 : c <= 0x20 || c >= 0x7f || labelLength === MAX_LABEL) return invalid(raw)
    labelLength = c === DOT ? 0 : labelLength + 1
  }
  if (labelLength === 0 || name.length > MAX_NAME) return invalid(raw)
  // V8 hands back the same string when nothing changes, so lower-case entries are not copied.
  return name.toLowerCase()
}

function invalid(raw: string): never {
  const rule = 'labels of 1-63 printable ASCII characters, at most 253 in all'
  throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `domain trie entry ${JSON.stringify(raw)} is not a name: ${rule}`)
}

/** The most labels and label characters (plus one flags byte per label) `names` can need in a trie. */
export function measureEntries(names: readonly string[]): { labels: number; chars: number } {
  let labels = names.length
  let chars = 0
  for (const name of names) {
    chars += name.length + 1
    for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === DOT) labels++
  }
  return { labels, chars }
}
