/** build-cache.ts: the cache section becomes an AnswerCache, or null when the cache is off. */
import t from 'tap'
import { buildCache } from '../../src/cache/build-cache.js'
import { validate } from '../../src/config/load-config.js'

t.test('cache.enabled false gives no cache; otherwise an empty cache', async (t) => {
  t.equal(buildCache(validate({ cache: { enabled: false } }, 'test').cache), null)
  const cache = buildCache(validate({ cache: { maxEntries: 5 } }, 'test').cache)
  t.ok(cache)
  t.equal(cache?.entries, 0)
  t.equal(cache?.bytes, 0)
})
