// Operations log: every step goes to stdout and is appended to logs/operations.log, so a
// canary run leaves an audit trail next to the repository even when the terminal is gone.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Clock } from "./clock";

export type LogLevel = "INFO" | "WARN" | "ERROR";

export interface OperationsLogger {
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
    /** Raw tool output (e.g. `pulumi up`): stdout only, the operations log stays readable. */
    raw(text: string): void;
}

export interface LoggerOptions {
    /** File the lines are appended to; its directory is created if missing. */
    file: string;
    clock: Clock;
    /** Prefix naming the operation, e.g. "canary users@prod". */
    scope: string;
    /** Where lines are echoed; default process.stdout. */
    out?: (text: string) => void;
}

export function formatLine(at: Date, level: LogLevel, scope: string, message: string): string {
    return `${at.toISOString()} ${level.padEnd(5)} [${scope}] ${message}`;
}

export function createOperationsLogger(opts: LoggerOptions): OperationsLogger {
    const out = opts.out ?? ((text: string) => process.stdout.write(text));
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    const write = (level: LogLevel, message: string) => {
        const line = formatLine(opts.clock.now(), level, opts.scope, message) + "\n";
        out(line);
        // Synchronous append keeps the file in step order even if the process exits right after.
        fs.appendFileSync(opts.file, line);
    };
    return {
        info: (m) => write("INFO", m),
        warn: (m) => write("WARN", m),
        error: (m) => write("ERROR", m),
        raw: (text) => out(text),
    };
}
