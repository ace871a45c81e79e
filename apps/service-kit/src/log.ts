// JSON logs on stdout with pino: one object per line, ISO time, level as a word.
import pino from "pino";
import type { LogLevel } from "./config";

export type Logger = pino.Logger;

/** Where log lines go (stdout unless a test passes a sink). */
export interface LogSink {
    write(line: string): unknown;
}

export function createLogger(level: LogLevel, base: Record<string, unknown>, sink?: LogSink): Logger {
    return pino(
        {
            level,
            base,
            timestamp: pino.stdTimeFunctions.isoTime,
            formatters: { level: (label) => ({ level: label }) },
        },
        sink ?? pino.destination({ fd: 1, sync: true }),
    );
}
