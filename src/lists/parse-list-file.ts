/**
 * Parses the text of one list file. Every line that is not understood is
 * reported with its file and line number and contributes nothing: a bad line
 * never blocks or unblocks anything else, and never stops the rest of the
 * file from being read. The caller decides whether problems refuse a reload.
 */
import { domainToASCII } from 'node:url'
import { isIP } from 'node:net'
import { parseCidr } from './ip-ranges.js'

export interface ListProblem {
  file: string
  /** 1-based. */
  line: number
  /** The line as written (without its line break). */
  text: string
  message: string
}

/** Addresses that hosts-format block lists point names at; any other address is a redirect, not a block. */
const SINKHOLE_ADDRESSES = new Set(['0.0.0.0', '127.0.0.1', '::', '::1', '0:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:1'])

/** Standard hosts-file boilerplate, skipped silently on hosts-format lines. */
const HOSTS_BOILERPLATE = new Set([
  'localhost', 'localhost.localdomain', 'local', 'broadcasthost', 'ip6-localhost', 'ip6-loopback',
  'ip6-localnet', 'ip6-mcastprefix', 'ip6-allnodes', 'ip6-allrouters', 'ip6-allhosts', '0.0.0.0',
])

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i
const ADBLOCK_RULE = /^\|\|([^^$|*/]+)\^$/
/** `||p16-tiktok-*.ibyteimg.com^`: an adblock rule with inner-label wildcards (not a leading one). */
const ADBLOCK_WILDCARD_RULE = /^\|\|([^^$|*/][^^$|/]*)\^$/
/**
 * A line that is already a list entry: lower-case, two or more valid labels,
 * at most 253 characters, a last label that is not all digits, nothing else.
 * Most lines of a big list are like this; taking them as they are halves the
 * parse time of 1,000,000 lines (the general path below gives the same result).
 */
const PLAIN_ENTRY = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+(?=[a-z0-9_-]*[a-z_-])[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/

/**
 * One domain per line, meaning the name and every name below it. Also reads
 * hosts-file lines ("0.0.0.0 a.example b.example") and adblock "||name^"
 * lines, so vendor lists can be dropped in. "#" starts a comment (at the start
 * of a line, or after whitespace); "!" lines are adblock comments. A "*"
 * inside a label (`p16-tiktok-*.ibyteimg.com`) matches within that label only
 * (see wildcardProblem); "*." in front means the name and its subdomains.
 */
export function parseDomainList(text: string, file: string): { names: string[]; problems: ListProblem[] } {
  const names: string[] = []
  const problems: ListProblem[] = []
  forEachLine(text, (raw, line) => {
    if (PLAIN_ENTRY.test(raw)) {
      names.push(raw)
      return
    }
    const content = stripComment(raw)
    if (content === '' || content.startsWith('!') || /^\[adblock[^\]]*\]$/i.test(content)) return
    const report = (message: string): void => { problems.push({ file, line, text: raw, message }) }
    const take = (candidate: string): void => {
      const result = normaliseListName(candidate)
      if (typeof result === 'string') names.push(result)
      else report(result.problem)
    }

    if (content.startsWith('@@')) {
      report('adblock exception rules (@@) are not supported: put the name in allow.txt instead')
    } else if (content.startsWith('||')) {
      const m = ADBLOCK_RULE.exec(content) ?? ADBLOCK_WILDCARD_RULE.exec(content)
      if (m !== null) take(m[1])
      else if (content.includes('$')) report('adblock rules with modifiers ($...) are not supported; write the bare name')
      else if (content.slice(2).includes('*')) report('adblock wildcards in front ("||*.") are not supported; a name already covers its subdomains')
      else report('unsupported adblock rule: only "||name^" is accepted')
    } else {
      const fields = content.split(/\s+/)
      if (fields.length > 1 && isIP(fields[0]) !== 0) {
        const hosts = fields.slice(1).filter((h) => !HOSTS_BOILERPLATE.has(h.toLowerCase()))
        if (hosts.length === 0) return
        if (!SINKHOLE_ADDRESSES.has(fields[0])) {
          report(`hosts-file line maps to ${fields[0]}, which is not a sinkhole address (0.0.0.0, 127.0.0.1, ::, ::1); not treated as a block`)
          return
        }
        hosts.forEach(take)
      } else if (fields.length > 1) {
        report('more than one name on a line: write one name per line')
      } else {
        take(fields[0])
      }
    }
  })
  return { names, problems }
}

/** One CIDR per line (IPv4 or IPv6; a bare address is a single host), with "#" comments. */
export function parseCidrList(text: string, file: string): { cidrs: string[]; problems: ListProblem[] } {
  const cidrs: string[] = []
  const problems: ListProblem[] = []
  forEachLine(text, (raw, line) => {
    const content = stripComment(raw)
    if (content === '') return
    if (parseCidr(content) !== null) cidrs.push(content)
    else problems.push({ file, line, text: raw, message: 'not a CIDR (expected e.g. 149.154.160.0/20 or 2001:67c:4e8::/48)' })
  })
  return { cidrs, problems }
}

/**
 * True for a syntactically valid DNS host name in presentation form, any
 * case, without a trailing dot: labels of 1-63 letters, digits, hyphens and
 * underscores (RFC 1123 s2.1 plus "_" for service names), not starting or
 * ending with a hyphen; at most 253 characters; a last label that is not all
 * digits (RFC 3696 s2), so an IPv4 address is not taken for a name.
 */
export function isValidDomainName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  if (!labels.every((label) => LABEL.test(label))) return false
  return !/^[0-9]+$/.test(labels[labels.length - 1])
}

/** The list form of a name (lower-case ASCII, no trailing dot), or why it cannot be a list entry. */
function normaliseListName(candidate: string): string | { problem: string } {
  let name = candidate.startsWith('*.') ? candidate.slice(2) : candidate
  if (name.endsWith('.')) name = name.slice(0, -1)
  if (name.includes('*')) {
    const problem = wildcardProblem(name)
    return problem === null ? name.toLowerCase() : { problem }
  }
  if (/[^\x00-\x7f]/.test(name)) {
    // domainToASCII parses a URL host, so "ü/x.com" would come back as just "xn--tda": only hand it name characters.
    if (/[^a-z0-9._\-\u0080-\uffff]/i.test(name)) return { problem: `${JSON.stringify(candidate)} is not a valid domain name` }
    // IDNA (UTS #46) to the xn-- form, as the name travels in DNS; '' means not convertible.
    const ascii = domainToASCII(name)
    if (ascii === '') return { problem: `${JSON.stringify(name)} is not a valid internationalised domain name` }
    name = ascii
  }
  name = name.toLowerCase()
  if (!isValidDomainName(name)) return { problem: `${JSON.stringify(candidate)} is not a valid domain name` }
  if (!name.includes('.')) {
    return { problem: `${JSON.stringify(name)} is a single label (a top-level domain): it would block every name under it` }
  }
  return name
}

/**
 * Why `name` (with a "*" somewhere, a leading "*." already taken off) cannot be
 * a wildcard entry, or null. A "*" stands for zero or more characters inside
 * one label. It needs two fixed labels to its right (`tik*.com` would catch
 * names of countless registrants), may not stand in the last label, and a
 * first label of only "*" is refused ("*." in front already means "the name
 * and its subdomains"). lint-lists judges the breadth of accepted ones
 * (list-lint/wildcard-risk.ts).
 */
function wildcardProblem(name: string): string | null {
  if (/[^\x00-\x7f]/.test(name)) return `${JSON.stringify(name)}: wildcards need the name in its xn-- form`
  const labels = name.split('.')
  let last = labels.length - 1
  while (!labels[last].includes('*')) last--
  const fixed = labels.length - 1 - last
  if (labels[0] === '*') return `${JSON.stringify(name)}: wildcards: a first label of only "*" is not supported; write the name (it covers all its subdomains)`
  if (fixed < 2) {
    return `${JSON.stringify(name)}: wildcards need at least two fixed labels to their right (${fixed === 0 ? 'none in the top-level label' : `under a single label "${labels[last + 1]}" they would match names of many registrants`})`
  }
  // The label rules, with each "*" standing for one letter (it may match nothing: "p16-*" also matches "p16-").
  if (!isValidDomainName(name.replace(/\*+/g, 'a'))) return `${JSON.stringify(name)} is not a valid domain name (wildcards stand inside a label)`
  return null
}

/** "#" at the start of the content or after whitespace begins a comment; "a#b" stays (and is then rejected as a name). */
function stripComment(raw: string): string {
  const hash = raw.search(/(^|\s)#/)
  return (hash < 0 ? raw : raw.slice(0, hash)).trim()
}

function forEachLine(text: string, visit: (raw: string, line: number) => void): void {
  // A byte-order mark from a Windows editor would otherwise make the first entry invalid.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const lines = body.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i]
    visit(raw, i + 1)
  }
}
