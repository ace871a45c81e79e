// Command-line parsing of the scripts: node:util's parseArgs (strict), with the script's usage
// text appended to every error, including positional arguments beyond those the script takes.
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `-h` or `--help` anywhere before a `--` (every script answers it with its usage, exit 0). */
export function wantsHelp(argv: readonly string[]): boolean {
    const end = argv.indexOf("--");
    return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "-h" || a === "--help");
}

export function parseCommandLine<O extends Options>(argv: string[], options: O, usage: string, maxPositionals = 0) {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (err) {
        throw new Error(`${(err as Error).message}\n${usage}`, { cause: err });
    }
    const extra = parsed.positionals[maxPositionals];
    if (extra !== undefined) throw new Error(`unexpected argument "${extra}"\n${usage}`);
    return parsed;
}
