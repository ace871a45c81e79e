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

type LogMethod = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/**
 * The logger of one request: the pino child carrying its bindings (request id, trace_id, span_id)
 * is made on its first line above the level, not for every request. Most requests log nothing,
 * and making a child serialises its bindings.
 */
export class RequestLogger {
    private made?: Logger;

    constructor(
        private readonly parent: Logger,
        private readonly bindings: () => Record<string, unknown>,
        private readonly options: pino.ChildLoggerOptions,
    ) {}

    get level(): string {
        return this.parent.level;
    }

    isLevelEnabled(level: string): boolean {
        return this.parent.isLevelEnabled(level);
    }

    child(bindings: Record<string, unknown>, options?: pino.ChildLoggerOptions): Logger {
        return this.logger().child(bindings, options);
    }

    trace(...args: unknown[]): void {
        this.write("trace", args);
    }
    debug(...args: unknown[]): void {
        this.write("debug", args);
    }
    info(...args: unknown[]): void {
        this.write("info", args);
    }
    warn(...args: unknown[]): void {
        this.write("warn", args);
    }
    error(...args: unknown[]): void {
        this.write("error", args);
    }
    fatal(...args: unknown[]): void {
        this.write("fatal", args);
    }
    silent(): void {}

    private logger(): Logger {
        return (this.made ??= this.parent.child(this.bindings(), this.options));
    }

    private write(level: LogMethod, args: unknown[]): void {
        if (!this.parent.isLevelEnabled(level)) return;
        (this.logger()[level] as (...a: unknown[]) => void)(...args);
    }
}
