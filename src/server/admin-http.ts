/**
 * The admin listener (loopback by default): health, readiness, Prometheus
 * metrics, status, explain, and a token-protected reload. Read endpoints are
 * open to whoever can reach the port, but personal data (exemption ids,
 * reasons, approvers, client networks) only comes with
 * `Authorization: Bearer <token>`, the same token that POST /v1/reload needs;
 * a wrong token is refused rather than answered with less. Every call except
 * the probes and the scrape is reported to `audit` once its answer is sent.
 * What each route answers is the host's (host/admin-routes.ts); this file is
 * HTTP only.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { FIREWALL_PREFIX, type FirewallRoute } from '../firewall/feed-route.js'

/** What a request's Authorization header proved: no header, the admin token, or something else. */
export type TokenState = 'none' | 'valid' | 'invalid'

/** One admin API call, as the audit line records it (never the token, never the query string). */
export interface AdminCall {
  readonly method: string
  readonly endpoint: string
  readonly status: number
  readonly token: TokenState
  readonly remote: string
}

/** Reads that show personal data only with the token. */
const DETAIL_ROUTES = new Set(['GET /v1/status', 'GET /v1/explain'])

/** Health probes and the Prometheus scrape: frequent, carry no personal data, not audited. */
const NOT_AUDITED = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics'])

export interface AdminRoutes {
  /** The Prometheus exposition (one process's registry, or the cluster's aggregate). */
  metrics(): Promise<{ contentType: string; body: string }>
  /** False once nothing serves DNS any more (a cluster whose workers are gone): /healthz 503. Absent: always alive. */
  alive?(): boolean
  ready(): boolean
  /** `privileged`: the admin token was given, so personal data may be shown. */
  status(privileged: boolean): unknown | Promise<unknown>
  /** `resolve`: also ask the upstreams and report a block through the answer (explain --resolve). */
  explain(name: string, client: string, type: string, privileged: boolean, resolve: boolean): unknown
  /** Answers 200 when ok, 422 when refused (by the host or by any worker). */
  reload(): Promise<{ ok: boolean }>
  /** GET /v1/candidate: what the candidate list version would change; null (or absent) when none is evaluated here: 404. */
  candidate?(): unknown | null
  /** GET /v1/firewall/<category>.txt (firewall/feed-route.ts). */
  readonly firewall?: FirewallRoute
  /** The bearer token for POST endpoints; null disables them (403). */
  readonly token: string | null
  /** Called once per audited call, when its answer has been sent. */
  audit?(call: AdminCall): void
}

export class AdminHttp {
  private constructor(private readonly server: Server) {}

  static listen(address: string, port: number, routes: AdminRoutes): Promise<AdminHttp> {
    const server = createServer((req, res) => {
      auditOnFinish(req, res, routes)
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

function auditOnFinish(req: IncomingMessage, res: ServerResponse, routes: AdminRoutes): void {
  const method = req.method ?? '?'
  const endpoint = new URL(req.url ?? '/', 'http://admin').pathname
  if (!routes.audit || NOT_AUDITED.has(`${method} ${endpoint}`)) return
  const token = tokenState(req.headers.authorization, routes.token)
  const remote = req.socket.remoteAddress ?? '?'
  res.once('finish', () => routes.audit?.({ method, endpoint, status: res.statusCode, token, remote }))
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: AdminRoutes): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin')
  const route = `${req.method} ${url.pathname}`
  const token = tokenState(req.headers.authorization, routes.token)
  // The reload needs the token; the reads with personal data refuse a wrong one rather than answer with less.
  if (token !== 'valid' && (route === 'POST /v1/reload' || (token === 'invalid' && DETAIL_ROUTES.has(route)))) return refuseToken(res, routes)
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
      return send(res, 200, await routes.status(token === 'valid'))
    case 'GET /v1/explain': {
      const name = url.searchParams.get('name')
      if (!name) return send(res, 400, { error: 'query parameter "name" is required' })
      const client = url.searchParams.get('client') ?? '127.0.0.1'
      const type = (url.searchParams.get('type') ?? 'A').toUpperCase()
      try {
        const resolve = url.searchParams.get('resolve') === '1'
        return send(res, 200, await routes.explain(name, client, type, token === 'valid', resolve))
      } catch (e) {
        return send(res, 400, { error: (e as Error).message })
      }
    }
    case 'GET /v1/candidate': {
      const body = routes.candidate?.() ?? null
      if (body === null) return send(res, 404, { error: 'no candidate list version is evaluated in this process (blocking.candidate; with workers > 1, read the dnsvakt_candidate_* metrics)' })
      return send(res, 200, body)
    }
    case 'POST /v1/reload': {
      const result = await routes.reload()
      return send(res, result.ok ? 200 : 422, result)
    }
    default:
      return send(res, 404, { error: `no route ${route}`, routes: ['/healthz', '/readyz', '/metrics', '/v1/status', '/v1/explain', '/v1/candidate', `${FIREWALL_PREFIX}<category>.txt`, 'POST /v1/reload'] })
  }
}

/** 403 when no token is configured (nothing could pass), else 401. */
function refuseToken(res: ServerResponse, routes: AdminRoutes): void {
  if (!routes.token) return send(res, 403, { error: 'no admin token configured (admin.token or the admin.tokenEnv variable)' })
  res.setHeader('www-authenticate', 'Bearer')
  return send(res, 401, { error: 'missing or wrong bearer token' })
}

/** Compared in constant time; with no token configured, any header is invalid. */
export function tokenState(header: string | undefined, token: string | null): TokenState {
  if (header === undefined) return 'none'
  if (!token) return 'invalid'
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '')
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want) ? 'valid' : 'invalid'
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2)
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8' })
  res.end(text + '\n')
}
