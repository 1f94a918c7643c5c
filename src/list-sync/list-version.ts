/**
 * Names the lists a snapshot came from: the git commit when the folder is a
 * git checkout (so the help desk and dashboards can point at the reviewed
 * commit), with "+modified" when the files differ from that commit; otherwise
 * a hash of the file contents.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export async function listVersion(dir: string, contentHash: string): Promise<string> {
  try {
    const { stdout: commit } = await run('git', ['-C', dir, 'rev-parse', '--verify', '-q', 'HEAD'], { timeout: 5000 })
    const { stdout: status } = await run('git', ['-C', dir, 'status', '--porcelain', '--', '.'], { timeout: 5000 })
    const head = commit.trim()
    if (!/^[0-9a-f]{40,64}$/.test(head)) return contentHash
    return status.trim() === '' ? head : `${head}+modified`
  } catch {
    // Not a git checkout, or git is not installed: the content hash still identifies the lists.
    return contentHash
  }
}
