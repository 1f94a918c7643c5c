/**
 * The admin listener (loopback by default): health, readiness, Prometheus
 * metrics, status, explain, and a token-protected reload. Read endpoints are
 * open to whoever can reach the port; the one that changes state needs
 * `Authorization: Bearer <token>`. What each route answers is the host's
 * (host/admin-routes.ts); this file is HTTP only.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Explanation } from '../policy/explain.js'
import { FIREWALL_PREFIX, type FirewallRoute } from '../firewall/feed-route.js'

export interface AdminRoutes {
  /** The Prometheus exposition (one process's registry, or the cluster's aggregate). */
  metrics(): Promise<{ contentType: string; body: string }>
  /** False once nothing serves DNS any more (a cluster whose workers are gone): /healthz 503. Absent: always alive. */
  alive?(): boolean
  ready(): boolean
  status(): unknown | Promise<unknown>
  explain(name: string, client: string, type: string): Explanation
  /** Answers 200 when ok, 422 when refused (by the host or by any worker). */
  reload(): Promise<{ ok: boolean }>
  /** GET /v1/firewall/<category>.txt (firewall/feed-route.ts). */
  readonly firewall?: FirewallRoute
  /** The bearer token for POST endpoints; null disables them (403). */
  readonly token: string | null
}

export class AdminHttp {
  private constructor(private readonly server: Server) {}

  static listen(address: string, port: number, routes: AdminRoutes): Promise<AdminHttp> {
    const server = createServer((req, res) => {
      handle(req, res, routes).catch((e: unknown) => send(res, 500, { error: (e as Error).message }))
    })
    server.keepAliveTimeout = 5000
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, address, () => {
        server.off('error', reject)
        resolve(new AdminHttp(server))
      })
    })
  }

  get port(): number {
    const a = this.server.address()
    return typeof a === 'object' && a !== null ? a.port : 0
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: AdminRoutes): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin')
  const route = `${req.method} ${url.pathname}`
  if (routes.firewall && url.pathname.startsWith(FIREWALL_PREFIX)) return routes.firewall(req, res, url.pathname)
  switch (route) {
    case 'GET /healthz':
      return (routes.alive?.() ?? true) ? send(res, 200, { status: 'alive' }) : send(res, 503, { status: 'not serving' })
    case 'GET /readyz':
      return routes.ready() ? send(res, 200, { status: 'ready' }) : send(res, 503, { status: 'starting' })
    case 'GET /metrics': {
      const { contentType, body } = await routes.metrics()
      res.writeHead(200, { 'content-type': contentType })
      res.end(body)
      return
    }
    case 'GET /v1/status':
      return send(res, 200, await routes.status())
    case 'GET /v1/explain': {
      const name = url.searchParams.get('name')
      if (!name) return send(res, 400, { error: 'query parameter "name" is required' })
      const client = url.searchParams.get('client') ?? '127.0.0.1'
      const type = (url.searchParams.get('type') ?? 'A').toUpperCase()
      try {
        return send(res, 200, routes.explain(name, client, type))
      } catch (e) {
        return send(res, 400, { error: (e as Error).message })
      }
    }
    case 'POST /v1/reload': {
      if (!routes.token) return send(res, 403, { error: 'no admin token configured (admin.token or the admin.tokenEnv variable)' })
      if (!tokenMatches(req.headers.authorization, routes.token)) {
        res.setHeader('www-authenticate', 'Bearer')
        return send(res, 401, { error: 'missing or wrong bearer token' })
      }
      const result = await routes.reload()
      return send(res, result.ok ? 200 : 422, result)
    }
    default:
      return send(res, 404, { error: `no route ${route}`, routes: ['/healthz', '/readyz', '/metrics', '/v1/status', '/v1/explain', `${FIREWALL_PREFIX}<category>.txt`, 'POST /v1/reload'] })
  }
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '')
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2)
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8' })
  res.end(text + '\n')
}
