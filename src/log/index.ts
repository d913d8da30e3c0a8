import { type LevelWithSilent, type Logger, pino } from 'pino'

export type { Logger } from 'pino'

/** The node's root logger: JSON lines on stdout (fastify's logger), one child per module. */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime })
}
