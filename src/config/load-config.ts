/**
 * Reads and checks the YAML config. Every problem is collected and reported
 * at once, each naming its key, so an operator fixes a broken file in one go.
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isScalar, parseDocument } from 'yaml'
import type { z } from 'zod'
import { DnsvaktError } from '../errors.js'
import { crossFieldProblems, refuseProblems } from './check-config.js'
import { given } from './fields.js'
import { type Config, configSchema } from './schema.js'

/** Where the package lives: relative paths in the built-in defaults resolve here. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface LoadedConfig {
  readonly config: Config
  /** The file it came from, or null for built-in defaults. */
  readonly file: string | null
  /** Absolute blocklist folder and exemptions file. */
  readonly blocklistDir: string
  readonly exemptionsFile: string
  /** blocking.candidate.dir made absolute; null or absent: no candidate version. */
  readonly candidateDir?: string | null
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
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true })
  refuseProblems(result.success ? crossFieldProblems(result.data) : result.error.issues.map(describeIssue), `config ${origin}`)
  return result.data!
}

/** "key.path: what was expected, got what was given". Our own field readers already say both. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.length ? issue.path.join('.') : '(top level)'
  const input = (issue as { input?: unknown }).input
  if (issue.code === 'custom' || issue.code === 'unrecognized_keys' || input === undefined || / got /.test(issue.message)) return `${key}: ${issue.message}`
  if (issue.code === 'invalid_key') return `${key}: ${issue.issues[0]?.message ?? issue.message}, got ${given(input)}`
  if (issue.code === 'invalid_type' && issue.expected === 'object') return `${key}: expected a mapping (indented "key: value" lines), got ${given(input)}`
  return `${key}: ${issue.message}, got ${given(input)}`
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => `line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`)
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `config file ${file} is not valid YAML:\n  - ${problems.join('\n  - ')}`, {
      problems,
    })
  }
  // `mode: null` unquoted is YAML's null; the block mode of that name is meant (an empty `mode:` or `~` stays an error).
  const mode = doc.getIn(['blocking', 'mode'], true)
  if (isScalar(mode) && mode.value === null && /^null$/i.test(mode.source ?? '')) doc.setIn(['blocking', 'mode'], 'null')
  return doc.toJS()
}

/** `base`: the folder blocking.dir is relative to. */
function finish(config: Config, file: string | null, base: string): LoadedConfig {
  const abs = (p: string, from: string) => (isAbsolute(p) ? p : resolve(from, p))
  const blocklistDir = abs(config.blocking.dir, base)
  const candidateDir = config.blocking.candidate === null ? null : abs(config.blocking.candidate.dir, base)
  return { config, file, blocklistDir, exemptionsFile: abs(config.blocking.exemptions.file, blocklistDir), candidateDir }
}
