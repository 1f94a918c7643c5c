/**
 * Reads and checks the YAML config. Every problem is collected and reported
 * at once, each naming its key, so an operator fixes a broken file in one go.
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDocument } from 'yaml'
import { DnsvaktError } from '../errors.js'
import { type Config, configSchema } from './schema.js'
import { encryptedConfigProblems } from './encrypted-schema.js'

/** Where the package lives: relative paths in the built-in defaults resolve here. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface LoadedConfig {
  readonly config: Config
  /** The file it came from, or null for built-in defaults. */
  readonly file: string | null
  /** Absolute blocklist folder and exemptions file. */
  readonly blocklistDir: string
  readonly exemptionsFile: string
}

/** Loads `file` (or the defaults when null). Throws DNSVAKT_ERR_CONFIG listing every problem. */
export function loadConfig(file: string | null): LoadedConfig {
  if (file === null) return finish(validate({}, '(defaults)'), null, PACKAGE_ROOT)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `cannot read config file ${file}: ${(cause as Error).message}`, {
      cause,
      problems: [`cannot read ${file}`],
    })
  }
  const raw = parseYaml(text, file)
  // blocking.dir left out means the shipped lists; written out, it is relative to the config file.
  const dirGiven = (raw as { blocking?: { dir?: unknown } } | null)?.blocking?.dir !== undefined
  return finish(validate(raw, file), file, dirGiven ? dirname(resolve(file)) : PACKAGE_ROOT)
}

/** Validates an already parsed object (tests and check-config use this too). */
export function validate(raw: unknown, origin: string): Config {
  const result = configSchema.safeParse(raw ?? {})
  const problems: string[] = result.success
    ? crossCheck(result.data)
    : result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`)
  if (problems.length > 0 || !result.success) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `invalid config ${origin}:\n  - ${problems.join('\n  - ')}`, { problems })
  }
  return result.data
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => `line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`)
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `config file ${file} is not valid YAML:\n  - ${problems.join('\n  - ')}`, {
      problems,
    })
  }
  return doc.toJS()
}

/** Rules that span keys, which the schema cannot express field by field. */
function crossCheck(c: Config): string[] {
  const problems: string[] = []
  if (c.upstream.deadline < c.upstream.tryTimeout) {
    problems.push('upstream.deadline: must be at least upstream.tryTimeout')
  }
  if (c.blocking.mode === 'sinkhole' && !c.blocking.sinkhole.ipv4 && !c.blocking.sinkhole.ipv6) {
    problems.push('blocking.sinkhole: mode "sinkhole" needs blocking.sinkhole.ipv4 and/or ipv6')
  }
  problems.push(...encryptedConfigProblems(c))
  if (c.cache.minTtl > c.cache.maxTtl) problems.push('cache.minTtl: must not exceed cache.maxTtl')
  const seen = new Map<string, string>()
  for (const [name, g] of Object.entries(c.groups)) {
    if (name === 'default' && g.networks.length > 0) {
      problems.push('groups.default.networks: the default group takes every allowed client no other group matches; give it no networks')
    }
    for (const net of g.networks) {
      const other = seen.get(net)
      if (other) problems.push(`groups.${name}.networks: ${net} is already in group "${other}"`)
      seen.set(net, name)
    }
  }
  return problems
}

/** `base`: the folder blocking.dir is relative to. */
function finish(config: Config, file: string | null, base: string): LoadedConfig {
  const abs = (p: string, from: string) => (isAbsolute(p) ? p : resolve(from, p))
  const blocklistDir = abs(config.blocking.dir, base)
  return { config, file, blocklistDir, exemptionsFile: abs(config.blocking.exemptions.file, blocklistDir) }
}
