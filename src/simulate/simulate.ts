/**
 * `dnsvakt simulate` without the command line: loads two list versions with
 * the gateway's own loader (in this thread: a command, not the hot path),
 * replays a file of names against both, and returns what would change per
 * category and group, plus every protected name the new version would block.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig } from '../config/load-config.js'
import { DnsvaktError } from '../errors.js'
import { loadLists } from '../lists/load-lists.js'
import type { ListProblem } from '../lists/parse-list-file.js'
import { type Comparison, compareVersions, type GroupSpec, type Version } from './compare-versions.js'
import { EntryIndex } from './entry-index.js'
import { folderSource, type ListSource, revisionSource } from './list-versions.js'
import { protectedNames, protectedViolations, type Violation } from './protected-names.js'
import { readReplayNames } from './read-names.js'

/** A list version: a folder, or the list folder `repo` (inside a git work tree) at revision `rev`. */
export type SourceSpec = { readonly dir: string } | { readonly repo: string; readonly rev: string }

export interface SimulateOptions {
  /** The names to replay: one per line, or a decision-log export (JSON lines with `name`). */
  readonly namesFile: string
  readonly from: SourceSpec
  readonly to: SourceSpec
  /** A gateway config whose groups to report; null: one default group enforcing every category. */
  readonly configFile?: string | null
  /** Names that must never be blocked (besides the collateral-risk table). */
  readonly protectedFile?: string | null
  readonly now?: number
}

export interface SimulationReport extends Comparison {
  readonly from: { label: string; version: string; problems: readonly ListProblem[] }
  readonly to: { label: string; version: string; problems: readonly ListProblem[] }
  /** Distinct names replayed, and the lines (queries) they came from. */
  readonly names: number
  readonly queries: number
  readonly skippedLines: ReadonlyArray<{ line: number; reason: string }>
  readonly protectedChecked: number
  /** Protected names the `to` version blocks: any of them fails the simulation. */
  readonly protectedBlocked: readonly Violation[]
}

const DAY = 86_400_000

export async function simulate(opts: SimulateOptions): Promise<SimulationReport> {
  const now = opts.now ?? Date.now()
  const config = opts.configFile ? loadConfig(opts.configFile).config : null
  const groups: GroupSpec[] = config === null ? [] : Object.entries(config.groups).map(([name, g]) => ({ name, enforce: g.enforce }))
  // As the gateway: clients no network matches are in "default"; without one configured they get every category.
  if (!groups.some((g) => g.name === 'default')) groups.push({ name: 'default', enforce: null })
  const exemptionsFile = config?.blocking.exemptions.file ?? 'exemptions.yaml'
  const maxDuration = config?.blocking.exemptions.maxDuration ?? 365 * DAY

  const replay = await readReplayNames(opts.namesFile)
  let protectedText: string | null = null
  if (opts.protectedFile) {
    try {
      protectedText = await readFile(opts.protectedFile, 'utf8')
    } catch (cause) {
      throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `cannot read the protected names ${opts.protectedFile}: ${(cause as Error).message}`, { cause })
    }
  }

  const sources: ListSource[] = []
  try {
    const load = async (spec: SourceSpec): Promise<Version & { version: string }> => {
      const source = 'dir' in spec ? folderSource(spec.dir) : await revisionSource(spec.repo, spec.rev)
      sources.push(source)
      const snapshot = await loadLists({ dir: source.dir, exemptionsFile: join(source.dir, exemptionsFile), exemptionMaxDurationMs: maxDuration, now })
      if (snapshot.categories.length === 0) throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `no list files (<category>.txt) in ${source.label}`)
      return { label: source.label, snapshot, index: await EntryIndex.build(snapshot), version: source.commit ?? snapshot.version }
    }
    const from = await load(opts.from)
    const to = await load(opts.to)
    const protectedSet = protectedNames(protectedText, opts.protectedFile ?? 'protected')
    return {
      from: { label: from.label, version: from.version, problems: from.snapshot.problems },
      to: { label: to.label, version: to.version, problems: to.snapshot.problems },
      names: replay.counts.size,
      queries: replay.total,
      skippedLines: replay.skipped,
      ...compareVersions(from, to, replay.counts, groups),
      protectedChecked: protectedSet.length,
      protectedBlocked: protectedViolations(to, protectedSet),
    }
  } finally {
    await Promise.all(sources.map((s) => s.dispose()))
  }
}
