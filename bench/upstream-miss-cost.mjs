#!/usr/bin/env node
/**
 * What the spoofing defences cost on the miss path: N sequential upstream
 * exchanges through the built UdpExchanger against bench/soak-upstream.mjs,
 * in one of three setups. Run under valgrind (the shared machine makes
 * timings meaningless and perf has no PMU here) and compare instruction
 * counts; the difference to N=0 divided by N is the cost per exchange:
 *
 *   node bench/soak-upstream.mjs 25450 &
 *   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
 *     node bench/upstream-miss-cost.mjs pooled 2000 25450
 *
 * Modes: pooled (8 sockets x 1000 queries each, no 0x20: close to the
 * default before issue 10), fresh (a new socket and port per query, the
 * default of issue 10), fresh-0x20 (and random case), rotation-0x20 (the
 * default now: 64 sockets per family, 8 queries each, one at a time).
 * Also prints the syscalls a mode makes per exchange when run under strace -c -f.
 */
import { UdpExchanger } from '../dist/upstream/udp-exchange.js'

const [mode = 'fresh', n = '1000', port = '25450'] = process.argv.slice(2)
const options = { pooled: { sockets: 8, queriesPerSocket: 1000 }, fresh: { queriesPerSocket: 1 }, 'fresh-0x20': { queriesPerSocket: 1 } }
const ex = new UdpExchanger(options[mode] ?? {})
const target = { address: '127.0.0.1', port: Number(port) }
const name = 'www.random-cases.example.com'.split('.').flatMap((l) => [l.length, ...Buffer.from(l)])
const query = Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 0, 1, 0, 1])
for (let i = 0; i < Number(n); i++) await ex.exchange(query, target, { timeoutMs: 5000, randomizeCase: mode.endsWith('-0x20') })
ex.close()
