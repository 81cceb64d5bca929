/**
 * Structured logs: one JSON line per record on stderr, a static message and plain fields.
 *
 * Privacy rule: transcripts, phone numbers and tool arguments never go in info-level fields; at debug level they
 * go under keys with a `pii` segment (`'vg.pii.text'`) so a redactor can strip them. Secrets are never logged.
 * This file is a leaf: every layer may import it.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  msg: string;
  time: string;
  [key: string]: unknown;
}

export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  child(bindings: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

type Sink = (record: LogRecord) => void;

const stderrSink: Sink = (record) => {
  process.stderr.write(`${JSON.stringify(record, errorReplacer)}\n`);
};

let threshold = ORDER[parseLevel(process.env.VOXGATE_LOG_LEVEL) ?? 'info'];
let sinks: Sink[] = [stderrSink];

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && value in ORDER ? (value as LogLevel) : undefined;
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined
      ? { name: value.name, message: value.message }
      : { name: value.name, code, message: value.message };
  }
  return value;
}

/** Sets the minimum level written (`silent` writes nothing). */
export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

export function getLogLevel(): LogLevel {
  return (Object.keys(ORDER) as LogLevel[]).find((l) => ORDER[l] === threshold) ?? 'info';
}

/** Replaces where records go; returns a function that restores the previous sinks. Used by tests and the CLI. */
export function setLogSinks(next: Sink[]): () => void {
  const previous = sinks;
  sinks = next;
  return () => {
    sinks = previous;
  };
}

class JsonLogger implements Logger {
  constructor(private readonly bindings: LogFields) {}

  debug(fields: LogFields, msg: string): void {
    this.write('debug', fields, msg);
  }
  info(fields: LogFields, msg: string): void {
    this.write('info', fields, msg);
  }
  warn(fields: LogFields, msg: string): void {
    this.write('warn', fields, msg);
  }
  error(fields: LogFields, msg: string): void {
    this.write('error', fields, msg);
  }
  child(bindings: LogFields): Logger {
    return new JsonLogger({ ...this.bindings, ...bindings });
  }

  private write(level: LogRecord['level'], fields: LogFields, msg: string): void {
    if (ORDER[level] < threshold) return;
    const record: LogRecord = { level, time: new Date().toISOString(), msg, ...this.bindings, ...fields };
    for (const sink of sinks) sink(record);
  }
}

export const rootLogger: Logger = new JsonLogger({});

export function createLogger(bindings: LogFields): Logger {
  return rootLogger.child(bindings);
}
