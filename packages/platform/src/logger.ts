import winston from 'winston';

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
    else if (typeof value === 'string' && /:\/\/[^/@\s]+@/.test(value)) info[key] = value.replace(/\/\/[^/@\s]+@/, '//[redacted]@');
  }
  return info;
});

export function createLogger(options: LoggerOptions): Logger {
  const format =
    options.format === 'json'
      ? winston.format.combine(redact(), winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json())
      : winston.format.combine(
          redact(),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.errors({ stack: true }),
          winston.format.printf(({ timestamp, level, message, service: _service, ...meta }) => {
            const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
            return `${String(timestamp)} ${level} ${String(message)}${rest}`;
          }),
        );
  return winston.createLogger({
    level: options.level,
    defaultMeta: { service: options.service },
    format,
    transports: [new winston.transports.Console()],
  });
}

/** A logger that writes nothing, for tests that don't look at logs. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
