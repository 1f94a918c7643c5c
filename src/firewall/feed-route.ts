/**
 * `GET /v1/firewall/<category>.txt` on the admin listener: the plain feed of
 * one enforced category (one CIDR per line), for firewalls that pull an
 * external block list (Palo Alto EDL, FortiGate threat feed). Built from the
 * snapshot serving DNS at that moment; the list version travels in
 * `X-Dnsvakt-List-Version` and as the ETag (a poll with If-None-Match gets
 * 304 until the lists change), `Last-Modified` is when the ranges last
 * changed. A category no group enforces, or unknown, is 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../config/schema.js'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import { buildFeed, enforcedCategories } from './feed.js'
import { renderPlain } from './render-lists.js'

export const FIREWALL_PREFIX = '/v1/firewall/'

export interface FeedSource {
  readonly config: Config
  snapshot(): PolicySnapshot
  now(): number
  /** When the category's ranges last changed (ms), if known (feed-metric.ts). */
  changedAt?(category: string): number | undefined
}

export type FirewallRoute = (req: IncomingMessage, res: ServerResponse, pathname: string) => void

export function firewallRoute(source: FeedSource): FirewallRoute {
  return (req, res, pathname) => {
    const m = /^\/v1\/firewall\/([a-z0-9][a-z0-9-]*)\.txt$/.exec(pathname)
    const snapshot = source.snapshot()
    const category = m?.[1]
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'GET only\n')
    if (category === undefined || !enforcedCategories(source.config, snapshot).includes(category)) {
      return text(res, 404, `no feed here; enforced categories: ${enforcedCategories(source.config, snapshot).map((c) => `${FIREWALL_PREFIX}${c}.txt`).join(' ')}\n`)
    }
    const etag = `"${snapshot.version}"`
    const changed = source.changedAt?.(category)
    const headers: Record<string, string> = { etag, 'x-dnsvakt-list-version': snapshot.version, 'cache-control': 'no-cache' }
    if (changed !== undefined) headers['last-modified'] = new Date(changed).toUTCString()
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers)
      return void res.end()
    }
    text(res, 200, renderPlain(buildFeed(source.config, snapshot, source.now(), [category])), headers)
  }
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
  res.end(body)
}
