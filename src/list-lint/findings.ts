/**
 * What lint-lists reports and the shapes its checks share: a finding (file,
 * line, stable code, message), the collector the checks write into, and an
 * entry with the file and line it came from.
 */
export interface Finding {
  /** Relative to the linted folder ("." for the folder itself). */
  file: string
  /** 1-based line of the offending entry; 0 when the finding is about a whole file or category. */
  line: number
  /** Stable code, see docs/lint-lists.md. */
  code: string
  message: string
}

export type Report = (file: string, line: number, code: string, message: string) => void

export interface Findings {
  readonly errors: Finding[]
  readonly warnings: Finding[]
  readonly error: Report
  readonly warn: Report
}

export function newFindings(): Findings {
  const errors: Finding[] = []
  const warnings: Finding[] = []
  return {
    errors,
    warnings,
    error: (file, line, code, message) => void errors.push({ file, line, code, message }),
    warn: (file, line, code, message) => void warnings.push({ file, line, code, message }),
  }
}

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : x.line - y.line))
}

export interface Entry {
  /** A normalised name, or a CIDR as written. */
  readonly value: string
  readonly file: string
  readonly line: number
}

export const at = (e: Entry): string => `${e.file}:${e.line}`

/** Where a finding about a whole category goes: <category>.txt when there is one. */
export const mainFile = (category: string, files: readonly string[]): string => files.find((f) => f === `${category}.txt`) ?? files[0]

export const byName = <T>([a]: [string, T], [b]: [string, T]): number => (a < b ? -1 : a > b ? 1 : 0)
