// `npm run dev`: starts users and orders from source on the embedded database (PGlite, data under
// .data/<app>), no Docker and no PostgreSQL server needed, with authentication on: both apps trust
// a throwaway local signing key (.data/dev-auth, created on first run, never committed);
// `npm run -s token -- --user alice` mints tokens with it. Ctrl-C stops both. `--help` lists the
// environment it reads (HOST, USERS_PORT, ORDERS_PORT, DEV_DATA_DIR, LOG_LEVEL).
//
// A port another process holds is refused before anything starts, and the "ready" banner counts
// only this script's own children: each reports the address it listens on over an IPC channel
// (scripts/lib/reportListening.ts), and only then is its /readyz asked.
import { ChildProcess, spawn } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import * as readline from "node:readline";
import { pathToFileURL } from "node:url";
import { parseCommandLine, wantsHelp } from "./lib/cliArgs";
import type { ListeningMessage } from "./lib/reportListening";
import { authEnv, loadOrCreateKey } from "./token";

const ROOT = path.resolve(__dirname, "..");
const READY_TIMEOUT_MS = 180_000;

export const HELP = `usage: npm run dev

Starts the users and orders apps from source on this machine, on the embedded database (PGlite,
data under .data/<app>): no Docker, no PostgreSQL server. Authentication is on: both apps trust a
local signing key (.data/dev-auth, created on first run); \`npm run -s token -- --user alice\` mints
tokens for it. The banner appears once both apps listen and answer /readyz; Ctrl-C stops both.

environment:
  HOST          address both apps listen on (default 127.0.0.1: this machine only;
                0.0.0.0 for every interface, e.g. to reach them from a VM or a phone)
  USERS_PORT    port of users (default 8081)
  ORDERS_PORT   port of orders (default 8082)
  DEV_DATA_DIR  directory of the apps' data (default .data; the key stays in .data/dev-auth,
                where \`npm run token\` finds it)
  LOG_LEVEL     the apps' log level: debug, info, warn, error (default info)

A port that another process holds (the Compose stack uses 8081 and 8082 too) is refused before
anything starts; choose others, e.g.  USERS_PORT=18081 ORDERS_PORT=18082 npm run dev

exit codes: 0 stopped with Ctrl-C, 1 a port is taken or an app stopped, 2 invalid usage or environment`;

export class DevUsageError extends Error {
    override name = "DevUsageError";
}

export interface DevSettings {
    /** Address the apps listen on. */
    host: string;
    /** Address to reach them at (loopback when they listen on every interface). */
    connectHost: string;
    usersPort: number;
    ordersPort: number;
    dataRoot: string;
    logLevel: string;
}

function port(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
    const text = env[variable]?.trim();
    if (text === undefined || text === "") return fallback;
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(value >= 1 && value <= 65535)) throw new DevUsageError(`${variable}=${env[variable]}: must be a port number from 1 to 65535`);
    return value;
}

/** The settings `npm run dev` reads from its environment; a DevUsageError names the variable. */
export function devSettings(env: NodeJS.ProcessEnv = process.env): DevSettings {
    const host = env.HOST?.trim() || "127.0.0.1";
    const usersPort = port(env, "USERS_PORT", 8081);
    const ordersPort = port(env, "ORDERS_PORT", 8082);
    if (usersPort === ordersPort) throw new DevUsageError(`USERS_PORT and ORDERS_PORT are both ${usersPort}: give each app its own port`);
    const connectHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
    return {
        host,
        connectHost,
        usersPort,
        ordersPort,
        dataRoot: path.resolve(ROOT, env.DEV_DATA_DIR ?? ".data"),
        logLevel: env.LOG_LEVEL ?? "info",
    };
}

export const baseUrl = (host: string, port: number) => `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;

/** Whether something accepts connections on host:port. */
function answers(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port, timeout: 1_000 });
        socket.once("connect", () => (socket.destroy(), resolve(true)));
        socket.once("timeout", () => (socket.destroy(), resolve(false)));
        socket.once("error", () => resolve(false));
    });
}

/**
 * Why an app cannot have `port` on `host`, with the variable to change; undefined when it is free.
 * Tried by listening there (exclusively) and by connecting: a port proxy of another runtime may
 * answer on an address the listen test does not cover.
 */
export async function portProblem(host: string, connectHost: string, port: number, variable: string): Promise<string | undefined> {
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        const server = net.createServer();
        server.once("error", resolve);
        server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
    });
    const fix = `set ${variable} to a free port, e.g. ${variable}=${port + 10000 <= 65535 ? port + 10000 : 18080} npm run dev`;
    if (error?.code === "EADDRINUSE") return `port ${port} on ${host} is in use by another process (${variable}=${port}); ${fix}`;
    if (error?.code === "EACCES") return `port ${port} needs privileges to listen on (${variable}=${port}); ${fix}`;
    if (error?.code === "EADDRNOTAVAIL" || error?.code === "ENOTFOUND")
        return `HOST=${host} is not an address of this machine; unset HOST (127.0.0.1) or use 0.0.0.0 for every interface`;
    if (error) return `cannot listen on ${host}:${port} (${error.code ?? error.message}); ${fix}`;
    if (await answers(connectHost, port)) return `something already answers on ${connectHost}:${port} (${variable}=${port}); ${fix}`;
    return undefined;
}

function readyz(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const req = http.get({ host, port, path: "/readyz", timeout: 1_000 }, (res) => {
            res.resume();
            resolve(res.statusCode === 200);
        });
        req.on("error", () => resolve(false));
        req.on("timeout", () => req.destroy());
    });
}

export interface ReadyTarget {
    name: string;
    port: number;
    connectHost: string;
}

/**
 * Resolves once `child` has reported listening on `target.port` (reportListening.ts) and /readyz
 * there answers 200: from then on only the child can be bound to that port, so the answer is its
 * own. Rejects when the child exits first or the time is up.
 */
export function waitUntilReady(
    target: ReadyTarget,
    child: Pick<ChildProcess, "on" | "off" | "exitCode" | "signalCode">,
    options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
    const { timeoutMs = READY_TIMEOUT_MS, intervalMs = 300 } = options;
    return new Promise((resolve, reject) => {
        let listening = false;
        let done = false;
        let timer: NodeJS.Timeout | undefined;
        const onMessage = (message: unknown) => {
            const m = message as Partial<ListeningMessage> | null;
            if (m?.type === "listening" && m.port === target.port) listening = true;
        };
        const exited = (code: number | null, signal: NodeJS.Signals | null) =>
            finish(new Error(`${target.name} exited (${signal ?? `code ${code}`}) before it was ready; its log is above`));
        const finish = (err?: Error) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            child.off("message", onMessage);
            child.off("exit", exited);
            if (err) reject(err);
            else resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return exited(child.exitCode, child.signalCode);
        child.on("message", onMessage);
        child.on("exit", exited);
        const deadline = Date.now() + timeoutMs;
        const poll = async () => {
            if (done) return;
            if (listening && (await readyz(target.connectHost, target.port))) return finish();
            if (Date.now() >= deadline) {
                const url = `${baseUrl(target.connectHost, target.port)}/readyz`;
                return finish(
                    new Error(
                        listening
                            ? `${target.name} listens but ${url} did not answer 200 within ${timeoutMs / 1000} s`
                            : `${target.name} did not start listening on port ${target.port} within ${timeoutMs / 1000} s`,
                    ),
                );
            }
            timer = setTimeout(() => void poll(), intervalMs);
        };
        void poll();
    });
}

interface App {
    name: "users" | "orders";
    port: number;
    portVariable: "USERS_PORT" | "ORDERS_PORT";
    env: Record<string, string>;
    color: string;
}

function appsOf(settings: DevSettings): App[] {
    return [
        { name: "users", port: settings.usersPort, portVariable: "USERS_PORT", env: {}, color: "\x1b[36m" },
        {
            name: "orders",
            port: settings.ordersPort,
            portVariable: "ORDERS_PORT",
            env: { USERS_URL: baseUrl(settings.connectHost, settings.usersPort) },
            color: "\x1b[35m",
        },
    ];
}

const children: ChildProcess[] = [];
let stopping = false;
/** Until both are ready, an exit is reported by waitUntilReady; afterwards here. */
let allReady = false;

/** The environment of an app's process: the embedded database, the local key, HOST and its port. */
export function childEnv(
    name: "users" | "orders",
    settings: DevSettings,
    auth: Record<string, string>,
    base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
    const app = appsOf(settings).find((a) => a.name === name)!;
    const env: NodeJS.ProcessEnv = {
        ...base,
        ...auth,
        NODE_ENV: "development",
        LOG_LEVEL: settings.logLevel,
        HOST: settings.host,
        PORT: String(app.port),
        DATA_DIR: path.join(settings.dataRoot, app.name),
        ...app.env,
    };
    delete env.DATABASE_URL; // always the embedded database here
    delete env.AUTH_JWKS_URI; // the local key only
    return env;
}

function start(app: App, settings: DevSettings, auth: Record<string, string>): ChildProcess {
    const env = childEnv(app.name, settings, auth);
    const reporter = pathToFileURL(path.join(__dirname, "lib", "reportListening.ts")).href;
    const child = spawn(process.execPath, ["--import", "tsx", "--import", reporter, path.join(ROOT, "apps", app.name, "src", "main.ts")], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const prefix = `${app.color}[${app.name}]\x1b[0m `;
    for (const stream of [child.stdout!, child.stderr!]) {
        readline.createInterface({ input: stream }).on("line", (line) => process.stdout.write(prefix + line + "\n"));
    }
    child.on("exit", (code, signal) => {
        process.stdout.write(`${prefix}exited (${signal ?? code})\n`);
        if (!stopping && allReady) {
            process.stderr.write(`dev: ${app.name} stopped (${signal ?? `code ${code}`}); stopping the other app\n`);
            stop(code || 1);
        }
    });
    return child;
}

function stop(code: number): void {
    if (stopping) return;
    stopping = true;
    const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
    if (alive.length === 0) process.exit(code);
    let left = alive.length;
    for (const c of alive) {
        c.once("exit", () => {
            if (--left === 0) process.exit(code);
        });
        c.kill("SIGTERM");
    }
}

const displayPath = (dir: string) => {
    const relative = path.relative(ROOT, dir);
    return relative === "" ? "./" : relative.startsWith("..") ? `${dir}/` : `${relative}/`;
};

function banner(settings: DevSettings): string {
    const users = baseUrl(settings.connectHost, settings.usersPort);
    const orders = baseUrl(settings.connectHost, settings.ordersPort);
    const json = "-H 'content-type: application/json'";
    return [
        "",
        `ready: users ${users}   orders ${orders}   (listening on ${settings.host}; data in ${displayPath(settings.dataRoot)})`,
        `API docs: ${users}/docs  ${orders}/docs  (OpenAPI: /openapi.json)`,
        "Authentication is on. Mint a token (add --admin for the admin role) and call the API:",
        "  TOKEN=$(npm run -s token -- --user alice)",
        `  curl -s -XPOST ${users}/api/users -H "authorization: Bearer $TOKEN" ${json} -d '{"email":"alice@example.com","name":"Alice"}'`,
        `  curl -s -XPOST ${orders}/api/orders -H "authorization: Bearer $TOKEN" ${json} -H 'Idempotency-Key: demo-1' \\`,
        `       -d '{"items":[{"sku":"BOOK-1","quantity":2,"unitPriceCents":1299}]}'`,
        `  curl -s ${orders}/api/orders -H "authorization: Bearer $TOKEN"`,
        "Ctrl-C stops both.",
        "",
    ].join("\n");
}

async function main(argv: string[]): Promise<number | undefined> {
    if (wantsHelp(argv)) {
        process.stdout.write(`${HELP}\n`);
        return 0;
    }
    let settings: DevSettings;
    try {
        parseCommandLine(argv, {}, "(npm run dev -- --help lists its settings)");
        settings = devSettings();
    } catch (err) {
        process.stderr.write(`dev: ${(err as Error).message}\n`);
        return 2;
    }
    const apps = appsOf(settings);
    // Every problem at once, before anything starts.
    const problems = [
        ...new Set(
            (await Promise.all(apps.map((a) => portProblem(settings.host, settings.connectHost, a.port, a.portVariable)))).filter(
                (p): p is string => p !== undefined,
            ),
        ),
    ];
    if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`dev: ${p}\n`);
        return 1;
    }

    process.on("SIGINT", () => stop(0));
    process.on("SIGTERM", () => stop(0));
    const auth = authEnv(await loadOrCreateKey());
    for (const app of apps) children.push(start(app, settings, auth));
    try {
        await Promise.all(apps.map((app, i) => waitUntilReady({ ...app, connectHost: settings.connectHost }, children[i])));
    } catch (err) {
        process.stderr.write(`dev: ${(err as Error).message}\n`);
        stop(1);
        return undefined;
    }
    allReady = true;
    process.stdout.write(banner(settings) + "\n");
    return undefined;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            if (code !== undefined) process.exitCode = code;
        },
        (err: unknown) => {
            process.stderr.write(`dev: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
            stop(1);
        },
    );
}
