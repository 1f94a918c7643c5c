/** The one line a worker sends its primary when it cannot start. */
import t from 'tap'
import { DnsvaktError } from '../../src/errors.js'
import { startFailureLine } from '../../src/host/start-failure.js'

t.test('a coded error is its message; anything else says it could not start', async (t) => {
  t.equal(startFailureLine(new DnsvaktError('DNSVAKT_ERR_LISTEN', 'listen.dns: cannot listen on 127.0.0.1:53 (UDP): permission denied')), 'listen.dns: cannot listen on 127.0.0.1:53 (UDP): permission denied')
  t.equal(startFailureLine(new TypeError('x is undefined')), 'cannot start: x is undefined')
  t.equal(startFailureLine(null), 'cannot start: null')
})
