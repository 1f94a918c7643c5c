/**
 * The last good lists on disk (blocking.stateDir), so a restart never
 * enforces less than the gateway enforced before it: after a refused reload,
 * or with list files deleted, the next start serves the last accepted lists
 * instead of the broken folder (policy-store.ts decides; this file keeps the
 * files).
 *
 * Every load copies the files it read into a fresh staging folder (in the
 * loader's thread, from the very text it parsed); when the store accepts the
 * snapshot, the `last-good` symlink is swapped to that folder with an atomic
 * rename, so a crash leaves either the old state or the new one, never half.
 *   <stateDir>/last-good -> gen-<pid>-<ms>-<random>/
 *   <stateDir>/gen-…/tiktok.txt, …, exemptions.yaml, dnsvakt-state.json (written last)
 * Several processes (cluster workers) may accept the same lists at once; each
 * swaps in its own folder and removes only folders no link points at.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, open, readdir, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { ListVersion } from '../list-sync/list-version.js'

/** Name of the exemptions file inside a state folder (whatever blocking.exemptions.file was). */
export const STATE_EXEMPTIONS = 'exemptions.yaml'
const META = 'dnsvakt-state.json'
const LINK = 'last-good'
/** A staging folder older than this that no link points at is a leftover (a crash, a refused load). */
const LEFTOVER_MS = 10 * 60_000

export interface LastGoodMeta extends ListVersion {
  /** The list folder the files were read from. */
  readonly source: string
}

/** Writes into a staging folder; a failed write marks it so it is never accepted half-written. */
export class StagingFolder {
  private failed = false
  private made = false

  constructor(readonly dir: string) {}

  async add(file: string, text: string): Promise<void> {
    if (this.failed) return
    try {
      if (!this.made) await mkdir(this.dir, { recursive: true })
      this.made = true
      await writeDurably(join(this.dir, file), text)
    } catch {
      this.failed = true // the state folder is not writable: serving goes on, the store reports it on accept
    }
  }

  /** Completes the copy: the exemptions, then the meta file, whose presence marks a complete folder. */
  async finish(meta: LastGoodMeta, exemptionsText: string): Promise<void> {
    await this.add(STATE_EXEMPTIONS, exemptionsText)
    await this.add(META, `${JSON.stringify(meta)}\n`)
  }
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', 0o644)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export class LastGoodState {
  constructor(readonly stateDir: string) {}

  /** A new, unique staging folder path (created by the first file written into it). */
  newStaging(): string {
    return join(this.stateDir, `gen-${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}`)
  }

  /** The current last good folder and its meta, or null when there is none (or it is unreadable: see `problem`). */
  async read(): Promise<{ dir: string; meta: LastGoodMeta } | null> {
    let target: string
    try {
      target = await readlink(join(this.stateDir, LINK))
    } catch {
      return null
    }
    const dir = join(this.stateDir, basename(target))
    try {
      const meta = JSON.parse(await readFile(join(dir, META), 'utf8')) as LastGoodMeta
      if (typeof meta.version !== 'string' || (meta.committedAt !== null && typeof meta.committedAt !== 'number')) return null
      return { dir, meta }
    } catch {
      return null
    }
  }

  /** Makes a complete staging folder the last good state. Returns why it could not, or null. */
  async accept(staging: string): Promise<string | null> {
    if (!existsSync(join(staging, META))) {
      await this.discard(staging)
      return `could not write the lists to ${this.stateDir} (is it writable?)`
    }
    const tmp = join(this.stateDir, `.${LINK}-${basename(staging)}`)
    try {
      await symlink(basename(staging), tmp)
      await rename(tmp, join(this.stateDir, LINK)) // atomic: readers see the old folder or the new one
      await syncDir(this.stateDir)
    } catch (e) {
      await rm(tmp, { force: true })
      return `could not switch ${join(this.stateDir, LINK)}: ${(e as Error).message}`
    }
    await this.prune(basename(staging))
    return null
  }

  /** Removes a staging folder that will not be accepted. */
  async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true }).catch(() => {}) // nothing there to remove (an unusable state folder)
  }

  /** Removes folders no link points at: older ones at once (this process replaced them), others once they are leftovers. */
  private async prune(current: string): Promise<void> {
    const now = Date.now()
    for (const name of await readdir(this.stateDir).catch(() => [] as string[])) {
      if (!name.startsWith('gen-') || name === current) continue
      if ((await readlink(join(this.stateDir, LINK)).catch(() => '')) === name) continue
      const path = join(this.stateDir, name)
      const age = now - ((await stat(path).catch(() => null))?.mtimeMs ?? now)
      const ownOlder = name.startsWith(`gen-${process.pid}-`) && name < current
      if (ownOlder || age > LEFTOVER_MS) await rm(path, { recursive: true, force: true })
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
