/**
 * JSON-RPC over HTTP with fastify: POST / with a JSON body (any content type is read as JSON, so curl -d works),
 * CORS open to any origin (wallets and dApps call from browsers), body size limit answered with HTTP 413.
 */
import type { AddressInfo } from 'node:net'
import { hexToBytes } from '@ethereumjs/util'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { addHealthRoutes } from '../metrics/index.js'
import { adminMethods } from './admin.js'
import { checkBearer, guardMethods, hostAllowed, UNAUTHORIZED_CODE } from './auth.js'
import { capabilitiesMethods } from './capabilities.js'
import { configMethods } from './config.js'
import { debugMethods } from './debug.js'
import { Dispatcher, type DispatcherOptions, type MethodTable } from './dispatcher.js'
import { ErrorCode } from './errors.js'
import { ethMethods } from './eth.js'
import { defaultFilterOptions, FilterManager } from './filters.js'
import { checkRpcOptions, TOO_MANY_CONNECTIONS } from './limits.js'
import { createLogReader } from './logs.js'
import { netMethods } from './net.js'
import type { RpcContext, RpcDeps, RpcOptions, RpcTransport } from './options.js'
import { erigonMethods, otsMethods } from './ots.js'
import { qbftMethods } from './qbft.js'
import { testingMethods } from './testing.js'
import { traceMethods } from './trace.js'
import { txpoolMethods } from './txpool.js'
import { web3Methods } from './web3.js'
import { defaultWebSocketOptions, serveConnection } from './websocket.js'

/** Every public method, by name; filter methods when a FilterManager keeps the filters. */
export function createMethods(ctx: RpcContext, filters?: FilterManager): MethodTable {
  const apis = new Set(ctx.opts.apis)
  return {
    ...(apis.has('web3') ? web3Methods(ctx) : {}),
    ...(apis.has('net') ? netMethods(ctx) : {}),
    ...(apis.has('eth') ? ethMethods(ctx) : {}),
    ...(apis.has('eth') ? configMethods(ctx) : {}),
    ...(apis.has('eth') ? capabilitiesMethods(ctx) : {}),
    ...(apis.has('eth') && filters ? filters.methods() : {}),
    ...(apis.has('txpool') ? txpoolMethods(ctx) : {}),
    ...(apis.has('debug') ? debugMethods(ctx) : {}),
    ...(apis.has('trace') ? traceMethods(ctx) : {}),
    ...(apis.has('ots') ? otsMethods(ctx) : {}),
    ...(apis.has('erigon') ? erigonMethods(ctx) : {}),
    ...(apis.has('qbft') && ctx.deps.qbft ? qbftMethods(ctx, ctx.deps.qbft) : {}),
    ...(apis.has('admin') ? adminMethods(ctx) : {}),
    ...(apis.has('testing') ? testingMethods(ctx) : {}),
  }
}

/** The dispatcher's limits from a listener's options. */
export function dispatcherOptions(opts: RpcOptions, deps: Pick<RpcDeps, 'txpool' | 'metrics'>): DispatcherOptions {
  return {
    metrics: deps.metrics,
    maxBatchLength: opts.maxBatchLength,
    maxResponseBytes: opts.maxResponseBytes,
    batchConcurrency: opts.batchConcurrency,
    prepareBatch: async (calls) => {
      const raws = rawTransactionsOf(calls)
      return raws.length === 0 ? () => {} : deps.txpool.prepareRaw(raws)
    },
  }
}

/** The raw transactions a batch's eth_sendRawTransaction calls carry (well-formed hex only; the calls check the rest). */
function rawTransactionsOf(calls: readonly { method: string; params: unknown }[]): Uint8Array[] {
  const raws: Uint8Array[] = []
  for (const { method, params } of calls) {
    if (method !== 'eth_sendRawTransaction' || !Array.isArray(params)) continue
    const hex = params[0]
    if (typeof hex === 'string' && hex.length % 2 === 0 && /^0x[0-9a-fA-F]+$/.test(hex))
      raws.push(hexToBytes(hex as `0x${string}`))
  }
  return raws
}

/** The dispatcher over every public namespace (HTTP; each WebSocket connection adds its subscriptions). */
export function createDispatcher(opts: RpcOptions, deps: RpcDeps, filters?: FilterManager): Dispatcher {
  return new Dispatcher(createMethods({ opts, deps }, filters), dispatcherOptions(opts, deps), deps.log)
}

function errorBody(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } })
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

export class RpcServer {
  private constructor(
    private readonly app: FastifyInstance,
    readonly url: string,
    readonly dispatcher: Dispatcher,
    private readonly filters: FilterManager,
    private readonly wsApp: FastifyInstance | undefined,
    /** ws://host:port of the WebSocket-only listener, when the options give it a port of its own. */
    readonly wsUrl: string | undefined,
  ) {}

  static async start(opts: RpcOptions, deps: RpcDeps): Promise<RpcServer> {
    checkRpcOptions(opts)
    const ctx = { opts, deps }
    const logs = createLogReader(ctx)
    const filters = new FilterManager(defaultFilterOptions, ctx, logs)
    const methods = createMethods(ctx, filters)
    const dispatcher = new Dispatcher(methods, dispatcherOptions(opts, deps), deps.log)
    // Without a valid token (when a JWT secret is set), protected namespaces answer -40100.
    const secret = opts.jwtSecret
    const guardedMethods = secret === undefined ? methods : guardMethods(methods, opts.jwtApis)
    const guardedDispatcher =
      secret === undefined ? dispatcher : new Dispatcher(guardedMethods, dispatcherOptions(opts, deps), deps.log)
    /** The methods a request may call, or the reason its token is refused. */
    const methodsFor = async (authorization: string | undefined) => {
      if (secret === undefined) return { methods, dispatcher }
      const verdict = await checkBearer(authorization, secret)
      if (verdict === undefined) return { methods, dispatcher }
      if (verdict === 'missing') return { methods: guardedMethods, dispatcher: guardedDispatcher }
      return { refused: verdict }
    }
    /** One listener's fastify app serving `transports`. */
    const buildApp = async (transports: readonly RpcTransport[]): Promise<FastifyInstance> => {
      const app = Fastify({ logger: false, bodyLimit: opts.maxBodyBytes })
      const log = deps.log
      // Without the plugin an upgrade request is an ordinary GET here (answered, not left hanging).
      if (transports.includes('ws')) await app.register(websocket, { options: { maxPayload: opts.maxBodyBytes } })

      // Connections beyond maxConnections are answered (HTTP 503, -32005) and closed, never served: counting them
      // at accept time lets each such client learn why, where a dropped socket would only look like a network fault.
      const overLimit = new WeakSet<object>()
      let open = 0
      app.server.on('connection', (socket) => {
        if (open >= opts.maxConnections) {
          overLimit.add(socket)
          // One request gets its answer; a client that sends none does not keep the socket.
          socket.setTimeout(10_000, () => socket.destroy())
          return
        }
        open++
        socket.once('close', () => open--)
      })

      app.removeAllContentTypeParsers()
      app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))

      const anyOrigin = opts.corsOrigins.includes('*')
      const allowed = new Set(opts.corsOrigins.map((o) => o.toLowerCase()))
      app.addHook('onRequest', async (request, reply) => {
        if (overLimit.has(request.raw.socket)) {
          return reply
            .code(503)
            .header('Content-Type', 'application/json')
            .header('Connection', 'close')
            .send(
              errorBody(TOO_MANY_CONNECTIONS.code, `${TOO_MANY_CONNECTIONS.message} (limit ${opts.maxConnections})`),
            )
        }
        if (!hostAllowed(request.headers.host, opts.hostAllowlist)) {
          // geth's answer to a Host it does not serve (a DNS-rebinding page, or a name not in the allowlist).
          return reply
            .code(403)
            .header('Content-Type', 'application/json')
            .send(errorBody(ErrorCode.InvalidRequest, `invalid host specified: ${request.headers.host}`))
        }
        if (anyOrigin) reply.header('Access-Control-Allow-Origin', '*')
        else {
          // Only listed origins get the header back; a browser then refuses the answer to any other page.
          const origin = request.headers.origin
          if (origin !== undefined && allowed.has(origin.toLowerCase()))
            reply.header('Access-Control-Allow-Origin', origin)
          reply.header('Vary', 'Origin')
        }
      })
      app.options('*', async (request, reply) => {
        reply
          .header('Access-Control-Allow-Methods', 'POST, GET, OPTIONS')
          .header('Access-Control-Allow-Headers', request.headers['access-control-request-headers'] ?? 'Content-Type')
          .header('Access-Control-Max-Age', '600')
          .code(204)
          .send()
      })
      app.route({
        method: 'GET',
        url: '/',
        // Health checks (and geth) answer a bare GET with 200; an upgrade request opens a JSON-RPC WebSocket.
        handler: async (_request, reply) => reply.code(200).send(),
        ...(transports.includes('ws') ? { wsHandler } : {}),
      })
      app.post('/', async (request, reply) => {
        if (!transports.includes('http')) {
          return reply
            .code(405)
            .header('Content-Type', 'application/json')
            .send(errorBody(ErrorCode.InvalidRequest, 'this port serves JSON-RPC over WebSocket only'))
        }
        return httpHandler(request, reply)
      })
      async function wsHandler(socket: WebSocket, request: FastifyRequest): Promise<void> {
        const allowed = await methodsFor(request.headers.authorization)
        if ('refused' in allowed) {
          socket.close(1008, 'Unauthorized')
          return
        }
        serveConnection(
          socket,
          {
            ...defaultWebSocketOptions,
            ...dispatcherOptions(opts, deps),
            maxConcurrentRequests: opts.wsMaxConcurrentRequests,
            maxQueuedRequests: opts.wsMaxQueuedRequests,
          },
          ctx,
          allowed.methods,
          logs,
        )
      }
      async function httpHandler(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
        const body = typeof request.body === 'string' ? request.body : ''
        const allowed = await methodsFor(request.headers.authorization)
        if ('refused' in allowed) {
          return reply
            .code(401)
            .header('Content-Type', 'application/json')
            .send(errorBody(UNAUTHORIZED_CODE, `Unauthorized: ${allowed.refused}`))
        }
        const response = await allowed.dispatcher.handleText(body)
        reply.header('Content-Type', 'application/json')
        // Only notifications: nothing to answer.
        return reply.code(200).send(response ?? '')
      }
      // Besu's health checks on the JSON-RPC port (also on the metrics listener).
      if (deps.health) addHealthRoutes(app, deps.health)

      app.setErrorHandler((error: FastifyError, _request, reply) => {
        reply.header('Content-Type', 'application/json')
        if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          return reply
            .code(413)
            .send(errorBody(ErrorCode.InvalidRequest, `request body too large (limit ${opts.maxBodyBytes} bytes)`))
        }
        if (error.statusCode !== undefined && error.statusCode < 500) {
          return reply.code(error.statusCode).send(errorBody(ErrorCode.InvalidRequest, error.message))
        }
        log.error({ err: error }, 'rpc http request failed')
        return reply.code(500).send(errorBody(ErrorCode.InternalError, 'internal error'))
      })
      return app
    }

    const log = deps.log
    // With a WebSocket port of its own (wsPort), the main port serves HTTP only and that port WebSocket only.
    const separateWs = opts.wsPort !== undefined
    const app = await buildApp(separateWs ? ['http'] : opts.transports)
    let wsApp: FastifyInstance | undefined
    let wsUrl: string | undefined
    try {
      await app.listen({ host: opts.host, port: opts.port })
      if (separateWs) {
        wsApp = await buildApp(['ws'])
        const wsHost = opts.wsHost ?? opts.host
        await wsApp.listen({ host: wsHost, port: opts.wsPort })
        wsUrl = urlOf(wsHost, (wsApp.server.address() as AddressInfo).port).replace('http://', 'ws://')
      }
    } catch (e) {
      await app.close()
      await wsApp?.close()
      throw e
    }
    const port = (app.server.address() as AddressInfo).port
    const url = urlOf(opts.host, port)
    log.info({ url, ws: wsUrl, methods: dispatcher.methodNames.length }, 'json-rpc server listening')
    filters.start()
    return new RpcServer(app, url, dispatcher, filters, wsApp, wsUrl)
  }

  async close(): Promise<void> {
    this.filters.stop()
    await this.app.close()
    await this.wsApp?.close()
  }
}
