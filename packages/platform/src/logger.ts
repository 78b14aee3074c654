import { Writable } from 'node:stream';
import winston from 'winston';
import { isError, serializeError } from './serialize-error.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level: string;
  format: 'json' | 'pretty';
}

const SECRET_KEYS = /pass(word)?|secret|token|authorization|api[-_]?key/i;

/** Replaces secret-looking fields and credentials inside URLs before a line is written. */
const redact = winston.format((info) => {
  for (const [key, value] of Object.entries(info)) {
    if (SECRET_KEYS.test(key)) info[key] = '[redacted]';
    else if (typeof value === 'string' && /:\/\/[^/@\s]+@/.test(value))
      info[key] = value.replace(/\/\/[^/@\s]+@/, '//[redacted]@');
  }
  return info;
});

/** Errors passed as metadata (`log.warn('x', { error })`) keep their name, message, code, stack and cause. */
const serializeErrors = winston.format((info) => {
  for (const [key, value] of Object.entries(info)) {
    if (isError(value)) info[key] = serializeError(value);
  }
  return info;
});

/** How lines are written: one JSON object per line in production, a readable line in development. */
export function logFormat(kind: LoggerOptions['format']): winston.Logform.Format {
  return kind === 'json'
    ? winston.format.combine(
        serializeErrors(),
        redact(),
        winston.format.timestamp(),
        winston.format.errors({ stack: true }),
        winston.format.json(),
      )
    : winston.format.combine(
        serializeErrors(),
        redact(),
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.errors({ stack: true }),
        winston.format.printf(({ timestamp, level, message, service: _service, ...meta }) => {
          const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
          return `${String(timestamp)} ${level} ${String(message)}${rest}`;
        }),
      );
}

export function createLogger(options: LoggerOptions): Logger {
  return winston.createLogger({
    level: options.level,
    defaultMeta: { service: options.service },
    format: logFormat(options.format),
    transports: [new winston.transports.Console()],
  });
}

/** A logger that writes nothing, for tests that don't look at logs. */
export function silentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}

/** A logged record as a test sees it: level, message and metadata, errors already serialized. */
export type LogRecord = Record<string, unknown> & { level: string; message: string };

/** A logger that keeps what it writes in memory, for tests that assert on logs. */
export function memoryLogger(level = 'debug'): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const transport = new winston.transports.Stream({
    stream: new Writable({
      objectMode: true,
      write(chunk: LogRecord, _encoding, done) {
        records.push(chunk);
        done();
      },
    }),
  });
  const log = winston.createLogger({
    level,
    format: winston.format.combine(serializeErrors(), redact()),
    transports: [transport],
  });
  return { log, records };
}
