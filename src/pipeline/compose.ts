/**
 * Chains stages once, at start-up, into one function. A stage's synchronous
 * result stays synchronous: compose adds no promise of its own.
 */
import type { Next, Stage } from './types.js'
import type { Query } from './query.js'

const endOfChain: Next = (q: Query) => {
  throw new Error(`the stage chain ended without an answer for ${q.name}: the last stage must answer`)
}

export function compose(stages: readonly Stage[]): Next {
  let next = endOfChain
  for (let i = stages.length - 1; i >= 0; i--) {
    const stage = stages[i]
    const below = next
    next = (q) => stage.handle(q, below)
  }
  return next
}
