// Structured JSON logs, one object per line on stdout.

export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface LogSink {
    write(line: string): unknown;
}

export class Logger {
    private readonly threshold: number;

    constructor(
        readonly level: LogLevel,
        private readonly base: LogFields = {},
        private readonly sink: LogSink = process.stdout,
    ) {
        this.threshold = LEVELS[level];
    }

    child(fields: LogFields): Logger {
        return new Logger(this.level, { ...this.base, ...fields }, this.sink);
    }

    enabled(level: LogLevel): boolean {
        return LEVELS[level] >= this.threshold;
    }

    debug(msg: string, fields?: LogFields): void {
        if (this.threshold <= LEVELS.debug) this.write("debug", msg, fields);
    }
    info(msg: string, fields?: LogFields): void {
        if (this.threshold <= LEVELS.info) this.write("info", msg, fields);
    }
    warn(msg: string, fields?: LogFields): void {
        if (this.threshold <= LEVELS.warn) this.write("warn", msg, fields);
    }
    error(msg: string, fields?: LogFields): void {
        this.write("error", msg, fields);
    }

    private write(level: LogLevel, msg: string, fields?: LogFields): void {
        const entry: LogFields = { time: new Date().toISOString(), level, msg, ...this.base, ...fields };
        for (const [k, v] of Object.entries(entry)) if (v instanceof Error) entry[k] = serializeError(v);
        let line: string;
        try {
            line = JSON.stringify(entry);
        } catch {
            line = JSON.stringify({ time: entry.time, level, msg, ...this.base, note: "unserializable log fields" });
        }
        this.sink.write(line + "\n");
    }
}

export function serializeError(err: Error): LogFields {
    const out: LogFields = { type: err.name, message: err.message };
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (err.stack) out.stack = err.stack;
    return out;
}

export function parseLogLevel(value: string | undefined): LogLevel {
    const v = (value ?? "info").trim().toLowerCase();
    if (v === "debug" || v === "info" || v === "warn" || v === "error") return v;
    throw new Error(`LOG_LEVEL="${value}" is not one of debug, info, warn, error`);
}
