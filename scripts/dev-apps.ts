// `npm run dev`: starts users (:8081) and orders (:8082) from source on the embedded database
// (PGlite, data under .data/<app>), no Docker and no PostgreSQL server needed. Ctrl-C stops both.
// Env: USERS_PORT, ORDERS_PORT, DEV_DATA_DIR (default .data), LOG_LEVEL (default info).
import { ChildProcess, spawn } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import * as readline from "node:readline";

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

function start(app: App): ChildProcess {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: "development",
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        PORT: app.port,
        DATA_DIR: path.join(dataRoot, app.name),
        ...app.env,
    };
    delete env.DATABASE_URL; // always the embedded database here
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
    children.push(start(apps[0]));
    children.push(start(apps[1]));
    const deadline = Date.now() + 120_000;
    while (!stopping && Date.now() < deadline) {
        if ((await ready(usersPort)) && (await ready(ordersPort))) {
            process.stdout.write(
                [
                    "",
                    `users  http://127.0.0.1:${usersPort}   orders  http://127.0.0.1:${ordersPort}   (data in ${path.relative(root, dataRoot) || "."}/)`,
                    `  curl -s -XPOST localhost:${usersPort}/api/users -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada"}'`,
                    `  curl -s -XPOST localhost:${ordersPort}/api/orders -H 'content-type: application/json' -H 'Idempotency-Key: demo-1' \\`,
                    `       -d '{"userId":"<id>","items":[{"sku":"BOOK-1","quantity":2,"unitPriceCents":1299}]}'`,
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
