// `npm run dev`: starts users (:8081) and orders (:8082) from source on the embedded database
// (PGlite, data under .data/<app>), no Docker and no PostgreSQL server needed, with authentication
// on: both apps trust a throwaway local signing key (.data/dev-auth, created on first run, never
// committed); `npm run token -- --sub <user>` mints tokens with it. Ctrl-C stops both.
// Env: USERS_PORT, ORDERS_PORT, DEV_DATA_DIR (default .data), LOG_LEVEL (default info).
import { ChildProcess, spawn } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import * as readline from "node:readline";
import { authEnv, loadOrCreateKey } from "./token";

const root = path.resolve(__dirname, "..");
const dataRoot = path.resolve(root, process.env.DEV_DATA_DIR ?? ".data");
const usersPort = process.env.USERS_PORT ?? "8081";
const ordersPort = process.env.ORDERS_PORT ?? "8082";

interface App {
    name: string;
    port: string;
    env: Record<string, string>;
    color: string;
}

const apps: App[] = [
    { name: "users", port: usersPort, env: {}, color: "\x1b[36m" },
    { name: "orders", port: ordersPort, env: { USERS_URL: `http://127.0.0.1:${usersPort}` }, color: "\x1b[35m" },
];

const children: ChildProcess[] = [];
let stopping = false;

function start(app: App, auth: Record<string, string>): ChildProcess {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...auth,
        NODE_ENV: "development",
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        PORT: app.port,
        DATA_DIR: path.join(dataRoot, app.name),
        ...app.env,
    };
    delete env.DATABASE_URL; // always the embedded database here
    delete env.AUTH_JWKS_URI; // the local key only
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps", app.name, "src", "main.ts")], {
        cwd: root,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    const prefix = `${app.color}[${app.name}]\x1b[0m `;
    for (const stream of [child.stdout!, child.stderr!]) {
        readline.createInterface({ input: stream }).on("line", (line) => process.stdout.write(prefix + line + "\n"));
    }
    child.on("exit", (code, signal) => {
        process.stdout.write(`${prefix}exited (${signal ?? code})\n`);
        if (!stopping) stop(code ?? 1);
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

function ready(port: string): Promise<boolean> {
    return new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: "/readyz", timeout: 1_000 }, (res) => {
            res.resume();
            resolve(res.statusCode === 200);
        });
        req.on("error", () => resolve(false));
        req.on("timeout", () => req.destroy());
    });
}

async function main(): Promise<void> {
    process.on("SIGINT", () => stop(0));
    process.on("SIGTERM", () => stop(0));
    const auth = authEnv(await loadOrCreateKey());
    children.push(start(apps[0], auth));
    children.push(start(apps[1], auth));
    const deadline = Date.now() + 120_000;
    while (!stopping && Date.now() < deadline) {
        if ((await ready(usersPort)) && (await ready(ordersPort))) {
            process.stdout.write(
                [
                    "",
                    `users  http://127.0.0.1:${usersPort}   orders  http://127.0.0.1:${ordersPort}   (data in ${path.relative(root, dataRoot) || "."}/)`,
                    `API docs: http://127.0.0.1:${usersPort}/docs  http://127.0.0.1:${ordersPort}/docs  (OpenAPI: /openapi.json)`,
                    "Authentication is on. Mint a token (add --admin for the admin role) and call the API:",
                    "  TOKEN=$(npm run -s token -- --sub alice)",
                    `  curl -s -XPOST localhost:${usersPort}/api/users -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"email":"alice@example.com","name":"Alice"}'`,
                    `  curl -s -XPOST localhost:${ordersPort}/api/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -H 'Idempotency-Key: demo-1' \\`,
                    `       -d '{"items":[{"sku":"BOOK-1","quantity":2,"unitPriceCents":1299}]}'`,
                    `  curl -s localhost:${ordersPort}/api/orders -H "authorization: Bearer $TOKEN"`,
                    "Ctrl-C stops both.",
                    "",
                ].join("\n") + "\n",
            );
            return;
        }
        await new Promise((r) => setTimeout(r, 300));
    }
}

void main();
