/** The one line a host prints when it cannot start. */
import t from 'tap'
import { createSocket } from 'node:dgram'
import { DnsvaktError } from '../../src/errors.js'
import { startFailure, startFailureLine } from '../../src/host/start-failure.js'

const bindError = (code: string, address: string, port: number) => Object.assign(new Error(`bind ${code} ${address}:${port}`), { code, syscall: 'bind', address, port })

t.test('bind failures name the key, the address and the cause', async (t) => {
  t.equal(startFailureLine(bindError('EACCES', '0.0.0.0', 53), 'listen.dns'), 'listen.dns: cannot listen on 0.0.0.0:53: permission denied (ports below 1024 need CAP_NET_BIND_SERVICE or root) (EACCES)')
  t.equal(startFailureLine(bindError('EADDRNOTAVAIL', '2001:db8::1', 53), 'listen.dns'), 'listen.dns: cannot listen on [2001:db8::1]:53: no such address on this host (EADDRNOTAVAIL)')
  t.equal(startFailureLine(bindError('EINVAL', '127.0.0.1', 53), 'listen.admin'), 'listen.admin: cannot listen on 127.0.0.1:53: EINVAL (EINVAL)')
})

t.test('a real busy UDP port reads the same', async (t) => {
  const a = createSocket('udp4')
  await new Promise<void>((r) => a.bind(0, '127.0.0.1', () => r()))
  t.teardown(() => a.close())
  const b = createSocket('udp4')
  const e = await new Promise<Error>((r) => {
    b.once('error', r)
    b.bind(a.address().port, '127.0.0.1')
  })
  const wrapped = startFailure(e, 'listen.dns') as DnsvaktError
  t.equal(wrapped.message, `listen.dns: cannot listen on 127.0.0.1:${a.address().port}: address already in use (another DNS server or a second dnsvakt?) (EADDRINUSE)`)
  t.equal(wrapped.cause, e)
})

t.test('other errors are left as they are (a bug keeps its stack)', async (t) => {
  const bug = new TypeError('x is undefined')
  t.equal(startFailure(bug, 'listen.dns'), bug)
  t.equal(startFailureLine(bug, 'listen.dns'), 'cannot start: x is undefined')
  const listError = new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', 'no list files')
  t.equal(startFailure(listError, 'listen.dns'), listError)
  t.equal(startFailureLine(listError, 'listen.dns'), 'no list files')
})
