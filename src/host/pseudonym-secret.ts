/**
 * The secret behind client pseudonyms (observability/client-pseudonym.ts).
 * Every process and every instance of an organisation must use the same one,
 * or the same device gets a different pseudonym in each worker and on each
 * host and no one can count distinct devices. Read from `log.pseudonymSecretFile`
 * or the DNSVAKT_PSEUDONYM_SECRET variable; with neither, the host (single
 * process or cluster primary) generates one at start and hands it to its
 * workers, so pseudonyms agree within the host but not across restarts.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { LoadedConfig } from '../config/load-config.js'
import { DnsvaktError } from '../errors.js'

export const PSEUDONYM_SECRET_ENV = 'DNSVAKT_PSEUDONYM_SECRET'
const MIN_BYTES = 16

export interface PseudonymSecret {
  readonly secret: Buffer
  readonly source: 'file' | 'env' | 'generated'
}

export function resolvePseudonymSecret(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env, generate = randomBytes): PseudonymSecret {
  const file = loaded.config.log.pseudonymSecretFile
  if (file) {
    const path = isAbsolute(file) ? file : resolve(loaded.file ? dirname(resolve(loaded.file)) : process.cwd(), file)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (e) {
      throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `log.pseudonymSecretFile: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
    }
    return { secret: checked(text.trim(), `log.pseudonymSecretFile (${path})`), source: 'file' }
  }
  const fromEnv = env[PSEUDONYM_SECRET_ENV]
  if (fromEnv) return { secret: checked(fromEnv.trim(), PSEUDONYM_SECRET_ENV), source: 'env' }
  return { secret: generate(32), source: 'generated' }
}

function checked(text: string, where: string): Buffer {
  const secret = Buffer.from(text, 'utf8')
  if (secret.length < MIN_BYTES) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `${where}: the pseudonym secret must be at least ${MIN_BYTES} bytes; got ${secret.length} (e.g. openssl rand -hex 32)`)
  }
  return secret
}
