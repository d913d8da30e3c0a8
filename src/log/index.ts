import { type LevelWithSilent, type Logger, pino } from 'pino'
import pretty from 'pino-pretty'

export type { Logger } from 'pino'

export const LOG_LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
export const LOG_FORMATS = ['json', 'pretty'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

export interface LogOptions {
  /** 'json' (one JSON object per line, for collectors) or 'pretty' (coloured lines for a terminal). */
  format?: LogFormat
  /** Levels of single modules (the `module` of each child logger: qbft, rpc, net, sync, txpool …). */
  modules?: Record<string, LevelWithSilent>
}

/**
 * The node's root logger: JSON lines on stdout (or pretty lines), one child per module; a module listed in
 * `opts.modules` logs at its own level, above or below the root's.
 */
export function createLogger(level: LevelWithSilent = 'info', opts: LogOptions = {}): Logger {
  const modules = opts.modules ?? {}
  const options = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    onChild: (child: Logger) => {
      const module = child.bindings().module
      if (typeof module === 'string' && modules[module] !== undefined) child.level = modules[module]
    },
  }
  if (opts.format === 'pretty') {
    return pino(
      options,
      pretty({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:HH:MM:ss.l' }),
    )
  }
  return pino(options)
}

/** "qbft=debug,rpc=warn" → { qbft: 'debug', rpc: 'warn' }; throws with what is allowed. */
export function parseModuleLevels(text: string): Record<string, LevelWithSilent> {
  const levels: Record<string, LevelWithSilent> = {}
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [module, level, extra] = part.split('=').map((p) => p.trim())
    if (!module || extra !== undefined || !LOG_LEVELS.includes(level as LevelWithSilent)) {
      throw new Error(
        `log module levels must be module=level pairs (levels: ${LOG_LEVELS.join(', ')}), got ${JSON.stringify(part)}`,
      )
    }
    levels[module] = level as LevelWithSilent
  }
  return levels
}
