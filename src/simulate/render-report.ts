/**
 * The text form of a simulation report (`--json` prints the report itself):
 * per category, then per group, one line per changed name with the list line
 * that decides it; then the protected names the new version would block.
 */
import type { Change, Difference } from './compare-versions.js'
import type { SimulationReport } from './simulate.js'

const plural = (n: number, word: string): string => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`

function changeLine(c: Change, sign: '+' | '-', withCategory: boolean): string {
  const why = c.because === 'listed'
    ? `${c.file}:${c.line} ${c.entry}`
    : c.because === 'allow-listed'
      ? `allow-listed by ${c.file}:${c.line} ${c.entry}`
      : `no longer listed (was ${c.file}:${c.line} ${c.entry} in the old version)`
  return `  ${sign} ${c.name} (${c.queries === 1 ? '1 query' : `${c.queries.toLocaleString('en')} queries`})${withCategory ? ` [${c.category}]` : ''}: ${why}\n`
}

function section(title: string, d: Difference, withCategory: boolean): string {
  if (d.newlyBlocked.length + d.newlyAllowed.length === 0) return `${title}: no change\n`
  return `${title}: ${d.newlyBlocked.length} newly blocked, ${d.newlyAllowed.length} newly allowed\n` +
    d.newlyBlocked.map((c) => changeLine(c, '+', withCategory)).join('') +
    d.newlyAllowed.map((c) => changeLine(c, '-', withCategory)).join('')
}

export function renderReport(r: SimulationReport): string {
  let out = `simulate: ${plural(r.names, 'name')} (${plural(r.queries, 'line')}) replayed against ${r.from.label} -> ${r.to.label}\n`
  if (r.skippedLines.length > 0) out += `  ${plural(r.skippedLines.length, 'line')} of the names file skipped (first: line ${r.skippedLines[0].line}, ${r.skippedLines[0].reason})\n`
  for (const [which, v] of [['old', r.from], ['new', r.to]] as const) {
    if (v.problems.length === 0) continue
    out += `  the ${which} lists have ${plural(v.problems.length, 'problem line')} the gateway leaves out (lint-lists reports them): ${v.problems.slice(0, 3).map((p) => `${p.file}:${p.line}`).join(', ')}\n`
  }
  out += '\n'
  for (const c of r.categories) out += section(`category ${c.category}`, c, false)
  out += '\n'
  for (const g of r.groups) out += section(`group ${g.group} (enforces ${g.enforces.join(', ') || 'nothing'})`, g, true)
  out += `\nprotected names: ${r.protectedChecked} checked, ${r.protectedBlocked.length} would be blocked\n`
  for (const v of r.protectedBlocked) out += `  ! ${v.name} would be blocked by category ${v.category}: ${v.file}:${v.line} ${v.entry} (protected by ${v.source})\n`
  out += r.protectedBlocked.length > 0
    ? `simulate: FAILED: ${plural(r.protectedBlocked.length, 'protected name')} would be blocked\n`
    : 'simulate: OK\n'
  return out
}
