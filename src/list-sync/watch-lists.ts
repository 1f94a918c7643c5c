/**
 * Notices changes to the list folder by polling names, sizes and mtimes.
 * Polling, not inotify: it also works on container bind mounts and network
 * file systems, where change events are often never delivered. A change is
 * acted on only once two polls in a row agree, so a file still being written
 * is not read half-way (a broken read is refused anyway; this avoids the noise).
 * Files are stat'ed through symlinks and their inode is part of the
 * signature: a Kubernetes ConfigMap volume (`tiktok.txt -> ..data/tiktok.txt`)
 * updates by swapping the `..data` link to a new folder, which changes every
 * inode even when sizes and times happen to match.
 */
import { readdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'

export class ListWatcher {
  private timer: NodeJS.Timeout | null = null
  private last = ''
  private pending: string | null = null
  private busy = false

  constructor(
    private readonly dir: string,
    private readonly exemptionsFile: string,
    private readonly intervalMs: number,
    private readonly onChange: () => void,
  ) {}

  async start(): Promise<void> {
    this.last = await this.signature()
    this.timer = setInterval(() => void this.poll(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** One poll; public so tests can step it without waiting. */
  async poll(): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      const now = await this.signature()
      if (now === this.last) {
        this.pending = null
      } else if (now === this.pending) {
        this.last = now
        this.pending = null
        this.onChange()
      } else {
        this.pending = now
      }
    } finally {
      this.busy = false
    }
  }

  private async signature(): Promise<string> {
    const parts: string[] = []
    let names: string[] = []
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.txt')).sort()
    } catch {
      return 'unreadable'
    }
    const files = [...names.map((n) => join(this.dir, n)), this.exemptionsFile]
    for (const f of files) {
      try {
        const s = await stat(f)
        parts.push(`${basename(f)}:${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`)
      } catch {
        parts.push(`${basename(f)}:missing`)
      }
    }
    return parts.join('|')
  }
}
