import t from 'tap'
import { DeadlineQueue, Due } from '../../src/upstream/deadline-queue.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Waits (at most 5 s) until `log` has `n` entries: the order is what is checked, not the timing. */
async function until(log: string[], n: number) {
  for (let waited = 0; log.length < n && waited < 5000; waited += 5) await sleep(5)
}

/** An item that records when it expired, in `log`. */
class Item extends Due {
  constructor(readonly name: string, private readonly log: string[], private readonly onExpire?: () => void) {
    super()
  }
  expire(): void {
    this.log.push(this.name)
    this.onExpire?.()
  }
}

t.test('items expire in deadline order, whatever the order they were added in', async (t) => {
  const log: string[] = []
  const q = new DeadlineQueue()
  q.add(new Item('c', log), 60)
  q.add(new Item('a', log), 20)
  q.add(new Item('b', log), 40)
  t.equal(q.size, 3)
  await until(log, 3)
  t.same(log, ['a', 'b', 'c'])
  t.equal(q.size, 0)
})

t.test('an item removed before its deadline never expires; removing twice is harmless', async (t) => {
  const log: string[] = []
  const q = new DeadlineQueue()
  const early = new Item('early', log)
  const middle = new Item('middle', log)
  q.add(early, 20)
  q.add(middle, 30)
  q.add(new Item('late', log), 40)
  q.remove(early)
  q.remove(middle)
  q.remove(middle)
  t.notOk(early.queued)
  await until(log, 1)
  await sleep(20)
  t.same(log, ['late'])
})

t.test('expire() may queue a new item (a retry): it expires at its own deadline', async (t) => {
  const log: string[] = []
  const q = new DeadlineQueue()
  q.add(new Item('first', log, () => q.add(new Item('retry', log), 20)), 10)
  q.add(new Item('second', log), 600)
  await until(log, 3)
  t.same(log, ['first', 'retry', 'second'], 'the retry did not wait for the later item')
})

t.test('a deadline earlier than the armed timer re-arms it', async (t) => {
  const log: string[] = []
  const q = new DeadlineQueue()
  q.add(new Item('slow', log), 1000)
  q.add(new Item('fast', log), 10)
  await until(log, 1)
  t.same(log, ['fast'], 'not held back until the first deadline')
  q.takeAll()
})

t.test('takeAll hands every item back without expiring any, and stops the timer', async (t) => {
  const log: string[] = []
  const q = new DeadlineQueue()
  const items = [new Item('x', log), new Item('y', log)]
  for (const i of items) q.add(i, 10)
  t.same(q.takeAll().map((i) => (i as Item).name), ['x', 'y'])
  t.equal(q.size, 0)
  await sleep(30)
  t.same(log, [])
})

t.test('one timer for many items: a burst of 1,000 costs one Node timer', async (t) => {
  const log: string[] = []
  const q = new DeadlineQueue()
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  for (let i = 0; i < 1000; i++) q.add(new Item(String(i), log), 30)
  const during = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  t.equal(during - before, 1)
  await until(log, 1000)
  t.equal(log.length, 1000)
  t.same(log.slice(0, 3), ['0', '1', '2'])
})
