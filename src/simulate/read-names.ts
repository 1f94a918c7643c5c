/**
 * The names `dnsvakt simulate` replays: a plain file (one name per line, "#"
 * comments) or a decision-log export (JSON lines with a `name` field, as the
 * gateway writes them), mixed freely. Each distinct name is evaluated once and
 * keeps how often it occurred, so a report can say how much traffic a change
 * touches. Names are compared as the gateway does: lower-case, no trailing dot.
 */
import { readFile } from 'node:fs/promises'
import { DnsvaktError } from '../errors.js'

export interface ReplayNames {
  /** Distinct name -> how many lines named it. */
  readonly counts: ReadonlyMap<string, number>
  /** Lines that named something (the queries replayed). */
  readonly total: number
  /** Lines that could not be read, with their line numbers (1-based). */
  readonly skipped: ReadonlyArray<{ line: number; reason: string }>
}

/** Reads `file`; throws DNSVAKT_ERR_CONFIG when it cannot be read at all. */
export async function readReplayNames(file: string): Promise<ReplayNames> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `cannot read the names file ${file}: ${(cause as Error).message}`, { cause })
  }
  return parseReplayNames(text)
}

export function parseReplayNames(text: string): ReplayNames {
  const counts = new Map<string, number>()
  const skipped: Array<{ line: number; reason: string }> = []
  let total = 0
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim()
    if (raw === '' || raw.startsWith('#')) continue
    const name = raw.startsWith('{') ? nameOfJson(raw) : raw.split(/\s+/)[0]
    if (typeof name !== 'string' || !isNameLike(name)) {
      skipped.push({ line: i + 1, reason: typeof name === 'string' ? `not a domain name: ${JSON.stringify(name)}` : name.reason })
      continue
    }
    const key = normalise(name)
    counts.set(key, (counts.get(key) ?? 0) + 1)
    total++
  }
  return { counts, total, skipped }
}

function nameOfJson(line: string): string | { reason: string } {
  let record: unknown
  try {
    record = JSON.parse(line)
  } catch {
    return { reason: 'a line starting with "{" that is not JSON' }
  }
  const name = (record as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : { reason: 'a JSON line without a string "name" field' }
}

/** Loose on purpose (a query name may hold "_" or escapes); only rejects what cannot be a name. */
const isNameLike = (name: string): boolean => name.length > 0 && name.length <= 1024 && !/[\s/"]/.test(name) && name !== '.'

const normalise = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase()
