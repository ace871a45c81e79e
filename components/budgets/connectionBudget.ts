// The PostgreSQL connection budget: how many connections every client of the shared database can
// hold in the worst case, and the server settings that follow from max_connections and memory.
// Pure arithmetic: config validation, the StatefulSet, the apps' DB_POOL_MAX, the roles'
// CONNECTION LIMITs and the README's table all read it, so they cannot disagree.
import type { AppCatalog, AppConfig, DatabaseConfig, StackConfig } from "../config";
import { parseMemory } from "../config/quantity";
import { planReplicas, ROLLING_MAX_SURGE } from "./replicaPlan";

/** Slots only superusers may use: the bootstrap Job and an operator's psql during an incident. */
export const SUPERUSER_RESERVED_CONNECTIONS = 3;
/** Besides its pool, each app process opens one session outside it (migrations under an advisory lock). */
export const SESSION_CONNECTIONS_PER_POD = 1;
/** pg_dump dumps one database at a time. pg_basebackup uses WAL sender slots, which max_connections does not count. */
export const BACKUP_CONNECTIONS = 1;
/** postgres_exporter: one connection for its built-in metrics, one for its collectors. */
export const EXPORTER_CONNECTIONS = 2;
/**
 * Work memory per connection: a third of its share of the memory outside shared_buffers, so that a
 * query with a few sort/hash steps still leaves room for the backend itself and the page cache.
 */
export const WORK_MEM_OPERATIONS_PER_CONNECTION = 3;
export const MIN_WORK_MEM_KIB = 1024;

const MIB = 2 ** 20;

/** The most pods an app's Deployments can run at once. */
export interface WorstCasePods {
    /** Stable Deployment: the HPA's max, or the fixed replica count. */
    stable: number;
    /** Canary Deployment's replicas (0 without a canary). */
    canary: number;
    /** One extra pod per Deployment during a rolling update (maxSurge). */
    surge: number;
    /** One replaced pod per Deployment still draining its requests (and connections) while the next one starts. */
    draining: number;
    total: number;
}

export function worstCasePods(config: AppConfig, meshEnabled: boolean): WorstCasePods {
    const plan = planReplicas(config, meshEnabled);
    const stable = plan.stableHpa?.max ?? plan.stableReplicas ?? 0;
    const canary = plan.canaryReplicas ?? 0;
    // A Deployment at 0 replicas rolls out no pods.
    const rolling = [stable, canary].filter((n) => n > 0).length * ROLLING_MAX_SURGE;
    return { stable, canary, surge: rolling, draining: rolling, total: stable + canary + 2 * rolling };
}

export interface AppBudget {
    app: string;
    pods: WorstCasePods;
    /** DB_POOL_MAX of each process. */
    pool: number;
    /** pool + the session connection. */
    perPod: number;
    /** pods.total × perPod: also the role's CONNECTION LIMIT. */
    connections: number;
}

export interface ConnectionBudget {
    apps: AppBudget[];
    backup: number;
    exporter: number;
    superuserReserved: number;
    /** Everything above added up. */
    required: number;
    maxConnections: number;
}

export interface BudgetInput {
    apps: Record<string, AppConfig>;
    /** Apps that have a database (the others hold no connection). */
    databaseApps: string[];
    database: Pick<DatabaseConfig, "maxConnections" | "backup">;
    meshEnabled: boolean;
    /** The metrics exporter runs next to PostgreSQL when Prometheus is on. */
    exporter: boolean;
}

export function connectionBudget(input: BudgetInput): ConnectionBudget {
    const apps = [...input.databaseApps]
        .sort()
        .filter((app) => input.apps[app])
        .map((app): AppBudget => {
            const config = input.apps[app];
            const pods = worstCasePods(config, input.meshEnabled);
            const perPod = config.dbPool.max + SESSION_CONNECTIONS_PER_POD;
            return { app, pods, pool: config.dbPool.max, perPod, connections: pods.total * perPod };
        });
    const backup = input.database.backup.enabled ? BACKUP_CONNECTIONS : 0;
    const exporter = input.exporter ? EXPORTER_CONNECTIONS : 0;
    const superuserReserved = SUPERUSER_RESERVED_CONNECTIONS;
    const required = apps.reduce((sum, a) => sum + a.connections, 0) + backup + exporter + superuserReserved;
    return { apps, backup, exporter, superuserReserved, required, maxConnections: input.database.maxConnections };
}

/** The budget of a stack: its apps with a database, its database, the exporter when Prometheus is on. */
export function stackConnectionBudget(config: StackConfig, catalog: AppCatalog): ConnectionBudget {
    return connectionBudget({
        apps: config.apps,
        databaseApps: [...catalog.values()].filter((a) => a.database).map((a) => a.name),
        database: config.database,
        meshEnabled: config.mesh.enabled,
        exporter: config.observability.prometheus.enabled,
    });
}

/** Per app: the CONNECTION LIMIT of its role. */
export function connectionLimits(budget: ConnectionBudget): Record<string, number> {
    return Object.fromEntries(budget.apps.map((a) => [a.app, a.connections]));
}

/** "15 pods (HPA max 10 + canary 1 + surge 2 + draining 2) × (pool 5 + 1 session) = 90". */
export function describeAppBudget(a: AppBudget, autoscaled: boolean): string {
    const parts = [`${autoscaled ? "HPA max" : "replicas"} ${a.pods.stable}`];
    if (a.pods.canary) parts.push(`canary ${a.pods.canary}`);
    if (a.pods.surge) parts.push(`surge ${a.pods.surge}`, `draining ${a.pods.draining}`);
    return `${a.pods.total} pods (${parts.join(" + ")}) × (pool ${a.pool} + ${SESSION_CONNECTIONS_PER_POD} session) = ${a.connections}`;
}

/** Config problems of a budget that does not fit, naming the keys to change. */
export function connectionBudgetProblems(budget: ConnectionBudget, apps: Record<string, AppConfig>): string[] {
    if (budget.required <= budget.maxConnections) return [];
    const lines = budget.apps.map((a) => `${a.app}: ${describeAppBudget(a, !!apps[a.app].autoscaling)}`);
    if (budget.backup) lines.push(`backup ${budget.backup}`);
    if (budget.exporter) lines.push(`metrics exporter ${budget.exporter}`);
    lines.push(`superuser reserved ${budget.superuserReserved}`);
    const poolKeys = budget.apps.map((a) => `orders-platform:apps.${a.app}.dbPool.max`);
    return [
        `orders-platform:database.maxConnections = ${budget.maxConnections}: the worst case needs ${budget.required} connections ` +
            `(${lines.join("; ")}); raise database.maxConnections (with database.resources.limits.memory), ` +
            `or lower ${poolKeys.join(", ")} or the apps' autoscaling.max / canary.replicas`,
    ];
}

// --- server settings --------------------------------------------------------------------

/** The PostgreSQL settings the StatefulSet passes as `-c name=value`. */
export interface PostgresSettings {
    max_connections: number;
    superuser_reserved_connections: number;
    shared_buffers: string;
    effective_cache_size: string;
    work_mem: string;
    maintenance_work_mem: string;
}

/** Memory sizing from the container's memory limit (the cgroup kills the server above it). */
export function memorySizing(database: Pick<DatabaseConfig, "maxConnections" | "resources">) {
    const limit = parseMemory(database.resources.limits.memory);
    if (limit === undefined) throw new Error(`memory limit ${database.resources.limits.memory} is not a quantity`);
    const sharedBuffers = Math.floor(limit / 4 / MIB) * MIB;
    const workMemKiB = Math.floor((limit - sharedBuffers) / (WORK_MEM_OPERATIONS_PER_CONNECTION * database.maxConnections) / 1024);
    // Vacuum and index builds: 1/16 of memory within 16MiB..1GiB (autovacuum workers use it too).
    const maintenance = Math.min(Math.max(Math.floor(limit / 16 / MIB), 16), 1024);
    return {
        limit,
        sharedBuffersMiB: sharedBuffers / MIB,
        effectiveCacheMiB: Math.floor((limit * 3) / 4 / MIB),
        workMemKiB,
        maintenanceMiB: maintenance,
    };
}

export function postgresSettings(database: Pick<DatabaseConfig, "maxConnections" | "resources">): PostgresSettings {
    const m = memorySizing(database);
    return {
        max_connections: database.maxConnections,
        superuser_reserved_connections: SUPERUSER_RESERVED_CONNECTIONS,
        shared_buffers: `${m.sharedBuffersMiB}MB`,
        effective_cache_size: `${m.effectiveCacheMiB}MB`,
        work_mem: `${m.workMemKiB}kB`,
        maintenance_work_mem: `${m.maintenanceMiB}MB`,
    };
}

/** Config problems when the memory limit cannot carry max_connections. */
export function memoryProblems(database: Pick<DatabaseConfig, "maxConnections" | "resources">): string[] {
    const m = memorySizing(database);
    if (m.workMemKiB >= MIN_WORK_MEM_KIB) return [];
    return [
        `orders-platform:database.resources.limits.memory = "${database.resources.limits.memory}": too small for ` +
            `database.maxConnections = ${database.maxConnections}: work_mem would be ${m.workMemKiB}kB ` +
            `((limit − shared_buffers ${m.sharedBuffersMiB}MiB) / (${WORK_MEM_OPERATIONS_PER_CONNECTION} × ${database.maxConnections})), ` +
            `at least ${MIN_WORK_MEM_KIB}kB is needed; raise the memory limit or lower database.maxConnections`,
    ];
}
