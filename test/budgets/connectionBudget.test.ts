// The PostgreSQL connection budget: worst-case pods × pool + reserved ≤ max_connections, refused
// with the keys when it does not fit, and the same numbers in the server, the apps and the roles.
import { strict as assert } from "node:assert";
import { appSchema } from "../../components/config";
import {
    connectionBudget,
    memorySizing,
    postgresSettings,
    stackConnectionBudget,
    SUPERUSER_RESERVED_CONNECTIONS,
    worstCasePods,
} from "../../components/budgets/connectionBudget";
import { SHIPPED_STACKS, stackConfigProblems } from "../harness";
import { shippedProdRun } from "../reliabilityRuns";
import { appCatalog as catalog, stackConfig } from "../harness";

const app = (over: Record<string, unknown>) => appSchema.parse({ version: "1.0.0", ...over });

const configProblems = stackConfigProblems;

describe("connection budget: arithmetic", () => {
    it("counts the HPA max (or replicas), the canary, one surge pod and one draining pod per Deployment", () => {
        assert.deepEqual(worstCasePods(app({ replicas: 2 }), true), { stable: 2, canary: 0, surge: 1, draining: 1, total: 4 });
        assert.deepEqual(
            worstCasePods(app({ replicas: 3, autoscaling: { min: 3, max: 10 }, canary: { version: "1.1.0", weight: 10 } }), true),
            {
                stable: 10,
                canary: 1,
                surge: 2,
                draining: 2,
                total: 15,
            },
        );
        // Mesh off: the stable HPA keeps room for the canary pods within its max.
        assert.equal(
            worstCasePods(app({ replicas: 3, autoscaling: { min: 4, max: 10 }, canary: { version: "1.1.0", weight: 50 } }), false).total,
            14,
        );
        // A Deployment at 0 replicas rolls out nothing.
        assert.deepEqual(worstCasePods(app({ replicas: 3, canary: { version: "1.1.0", weight: 0 } }), false), {
            stable: 3,
            canary: 0,
            surge: 1,
            draining: 1,
            total: 5,
        });
    });

    it("adds pool + the migration session per pod, the backup, the exporter and the superuser reserve", () => {
        const b = connectionBudget({
            apps: { users: app({ replicas: 2, dbPool: { max: 4 } }), orders: app({ replicas: 1 }) },
            databaseApps: ["users", "orders"],
            database: { maxConnections: 100, backup: { enabled: true } as any },
            meshEnabled: true,
            exporter: true,
        });
        assert.deepEqual(
            b.apps.map((a) => [a.app, a.pods.total, a.perPod, a.connections]),
            [
                ["orders", 3, 6, 18],
                ["users", 4, 5, 20],
            ],
        );
        assert.equal(b.required, 18 + 20 + 1 + 2 + SUPERUSER_RESERVED_CONNECTIONS);
    });

    it("sizes shared_buffers, work_mem and maintenance_work_mem from the memory limit", () => {
        const prod = stackConfig("prod");
        assert.deepEqual(postgresSettings(prod.database), {
            max_connections: 200,
            superuser_reserved_connections: 3,
            shared_buffers: "1024MB",
            effective_cache_size: "3072MB",
            work_mem: "5242kB",
            maintenance_work_mem: "256MB",
        });
        const m = memorySizing(prod.database);
        // Every connection running three work_mem-sized steps at once still fits beside shared_buffers.
        assert.ok(m.sharedBuffersMiB * 2 ** 20 + 3 * 200 * m.workMemKiB * 1024 <= m.limit);
    });
});

describe("connection budget: the shipped stacks", () => {
    for (const stack of SHIPPED_STACKS) {
        it(`${stack}: the worst case fits max_connections`, () => {
            const b = stackConnectionBudget(stackConfig(stack), catalog);
            assert.ok(b.required <= b.maxConnections, `${b.required} > ${b.maxConnections}`);
        });
    }

    it("prod: 27 pods at most, 168 of 200 connections", () => {
        const b = stackConnectionBudget(stackConfig("prod"), catalog);
        assert.deepEqual(
            b.apps.map((a) => [a.app, a.pods.total, a.connections]),
            [
                ["orders", 12, 72],
                ["users", 15, 90],
            ],
        );
        assert.equal(b.required, 168);
    });
});

describe("connection budget: config validation", () => {
    it("refuses the configuration of the incident (16 connections per process, max_connections 100), naming the keys and the numbers", () => {
        const problems = configProblems("prod", {
            "database.maxConnections": 100,
            "apps.users.dbPool.max": 16,
            "apps.orders.dbPool.max": 16,
        });
        assert.equal(problems.length, 1, problems.join("\n"));
        const [p] = problems;
        assert.match(p, /^orders-platform:database\.maxConnections = 100: the worst case needs 465 connections/);
        assert.match(p, /users: 15 pods \(HPA max 10 \+ canary 1 \+ surge 2 \+ draining 2\) × \(pool 16 \+ 1 session\) = 255/);
        assert.match(p, /orders: 12 pods \(HPA max 10 \+ surge 1 \+ draining 1\) × \(pool 16 \+ 1 session\) = 204/);
        assert.match(p, /orders-platform:apps\.orders\.dbPool\.max, orders-platform:apps\.users\.dbPool\.max/);
    });

    it("refuses a larger HPA max that would overrun the budget", () => {
        const [p] = configProblems("staging", { "apps.users.autoscaling.max": 20 });
        assert.match(p, /database\.maxConnections = 100: the worst case needs 174 connections/);
    });

    it("refuses more connections than the memory limit can carry, naming both keys", () => {
        const [p] = configProblems("dev", { "database.maxConnections": 400 });
        assert.match(p, /^orders-platform:database\.resources\.limits\.memory = "512Mi": too small for database\.maxConnections = 400/);
        assert.match(p, /work_mem would be 327kB/);
    });
});

describe("connection budget: the rendered stack uses it", () => {
    it("prod: server arguments, the apps' pool settings and the roles' connection limits", async () => {
        const run = await shippedProdRun();
        const sts = run.get("kubernetes:apps/v1:StatefulSet", "postgres").inputs.spec.template.spec;
        const args: string[] = sts.containers[0].args;
        for (const setting of ["max_connections=200", "superuser_reserved_connections=3", "shared_buffers=1024MB", "work_mem=5242kB"]) {
            const i = args.indexOf(setting);
            assert.ok(i > 0 && args[i - 1] === "-c", `-c ${setting} in ${args.join(" ")}`);
        }
        for (const name of ["users", "orders"]) {
            const data = run.get("kubernetes:core/v1:ConfigMap", `${name}-config`).inputs.data;
            assert.deepEqual([data.DB_POOL_MAX, data.DB_POOL_ACQUIRE_TIMEOUT_MS, data.DB_STATEMENT_TIMEOUT_MS], ["5", "1000", "3000"]);
        }
        const sql: string = run.get("kubernetes:core/v1:ConfigMap", "postgres-scripts").inputs.data["bootstrap.sql"];
        const limits = Object.fromEntries(
            [...sql.matchAll(/ALTER ROLE (\w+) WITH .*CONNECTION LIMIT (-?\d+)/g)].map((m) => [m[1], Number(m[2])]),
        );
        assert.deepEqual(limits, { backup: 3, monitor: 2, orders: 72, users: 90 });
        // The roles' limits plus the superuser reserve never exceed max_connections (walsenders are not counted).
        assert.ok(limits.orders + limits.users + 1 + limits.monitor + 3 <= 200);
    });
});
