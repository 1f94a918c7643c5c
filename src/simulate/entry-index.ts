/**
 * Where a list entry is written: file and line, per category and for the
 * allow list, read from a version's list folder with the gateway's own parser
 * (one line at a time, so every entry keeps its line). The gateway keeps no
 * line numbers in memory (explain re-reads files); a simulation asks for many
 * entries, so it indexes each version once.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseDomainList } from '../lists/parse-list-file.js'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'

export interface EntryLocation {
  readonly file: string
  /** 1-based; 0 when the entry was not found in the files (should not happen). */
  readonly line: number
}

/** The allow list's key in the index. */
export const ALLOW = '(allow)'

export class EntryIndex {
  private constructor(private readonly byCategory: ReadonlyMap<string, ReadonlyMap<string, EntryLocation>>) {}

  /** Indexes the domain files of every category of `snapshot`, and allow.txt. */
  static async build(snapshot: PolicySnapshot): Promise<EntryIndex> {
    const byCategory = new Map<string, Map<string, EntryLocation>>()
    const sets: Array<[string, readonly string[]]> = [
      ...snapshot.categories.map((c): [string, readonly string[]] => [c.name, c.files.filter((f) => !f.endsWith('.cidrs.txt'))]),
      [ALLOW, snapshot.allow.size > 0 ? ['allow.txt'] : []],
    ]
    for (const [category, files] of sets) {
      const index = new Map<string, EntryLocation>()
      for (const file of files) await indexFile(join(snapshot.dir, file), file, index)
      byCategory.set(category, index)
    }
    return new EntryIndex(byCategory)
  }

  /** The first line listing `entry` (as the trie reports it) in `category` (or ALLOW). */
  locate(category: string, entry: string): EntryLocation {
    return this.byCategory.get(category)?.get(entry) ?? { file: '?', line: 0 }
  }
}

async function indexFile(path: string, file: string, index: Map<string, EntryLocation>): Promise<void> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return // the loader already reported it as a problem
  }
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    for (const name of parseDomainList(lines[i], file).names) if (!index.has(name)) index.set(name, { file, line: i + 1 })
  }
}
