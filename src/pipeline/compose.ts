/**
 * Chains stages once, at start-up, into one function. A stage's synchronous
 * result stays synchronous: compose adds no promise of its own.
 */
import type { Next, Stage } from './types.js'
import type { Query } from './query.js'

const endOfChain: Next = (q: Query) => {
  throw new Error(`the stage chain ended without an answer for ${q.name}: the last stage must answer`)
}

type Link = (stage: Stage, below: Next) => Next

/**
 * One link per position, each its own function literal. V8 keeps call-site
 * feedback per literal: with one shared `(q) => stage.handle(q, below)` the
 * `handle` call saw every stage class (megamorphic: a stub-cache lookup per
 * call, no inlining); with a literal per position each call site sees the one
 * stage at its position. Identical bodies on purpose: do not fold them.
 */
const LINKS: readonly Link[] = [
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
  (stage, below) => (q) => stage.handle(q, below),
]
const shared: Link = (stage, below) => (q) => stage.handle(q, below)

export function compose(stages: readonly Stage[]): Next {
  let next = endOfChain
  for (let i = stages.length - 1; i >= 0; i--) next = (LINKS[i] ?? shared)(stages[i]!, next)
  return next
}
