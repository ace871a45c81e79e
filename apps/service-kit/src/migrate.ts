// Schema migrations, applied at start. Idempotent, and safe with several replicas starting at
// once: every runner takes the same advisory lock, so migrations run one after another and a
// replica that comes second finds them applied. (PGlite has a single connection and nothing
// else runs while the app starts, so the same code is safe there.)
import { Db, Queryable } from "./db";
import { Logger } from "./log";

export interface Migration {
    version: number;
    name: string;
    sql: string;
}

/** Advisory lock key shared by every app (a shared database serialises all of them). */
export const MIGRATION_LOCK_KEY = 7_301_114_712;

const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS schema_migrations (
    app        text        NOT NULL,
    version    integer     NOT NULL,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app, version)
)`;

export function latestVersion(migrations: readonly Migration[]): number {
    return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

function checkList(migrations: readonly Migration[]): void {
    const seen = new Set<number>();
    for (const m of migrations) {
        if (!Number.isInteger(m.version) || m.version < 1) throw new Error(`migration "${m.name}": version must be a positive integer`);
        if (seen.has(m.version)) throw new Error(`migration version ${m.version} is used twice`);
        seen.add(m.version);
    }
}

/** Applies the missing migrations of `app`; returns the versions it applied. */
export async function migrate(db: Db, app: string, migrations: readonly Migration[], log: Logger): Promise<number[]> {
    checkList(migrations);
    const ordered = [...migrations].sort((a, b) => a.version - b.version);
    return db.withSession(async (session) => {
        await session.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
        try {
            await session.exec(BOOKKEEPING);
            const rows = await session.query<{ version: number }>("SELECT version FROM schema_migrations WHERE app = $1", [app]);
            const done = new Set(rows.map((r) => Number(r.version)));
            const applied: number[] = [];
            for (const m of ordered) {
                if (done.has(m.version)) continue;
                const started = Date.now();
                await runInSession(session, app, m);
                applied.push(m.version);
                log.info({ app, migrationVersion: m.version, migration: m.name, ms: Date.now() - started }, "migration applied");
            }
            return applied;
        } finally {
            await session.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
        }
    });
}

async function runInSession(session: Queryable, app: string, m: Migration): Promise<void> {
    await session.exec("BEGIN");
    try {
        await session.exec(m.sql);
        await session.query("INSERT INTO schema_migrations (app, version, name) VALUES ($1, $2, $3)", [app, m.version, m.name]);
        await session.exec("COMMIT");
    } catch (err) {
        await session.exec("ROLLBACK").catch(() => undefined);
        throw err;
    }
}

/** Whether every migration of `app` is applied (used by /readyz). */
export async function migrationsApplied(db: Db, app: string, migrations: readonly Migration[]): Promise<boolean> {
    const rows = await db.query<{ v: number | string | null }>(
        "SELECT max(version) AS v FROM schema_migrations WHERE app = $1",
        [app],
        "kit_migrations_applied",
    );
    return Number(rows[0]?.v ?? 0) >= latestVersion(migrations);
}
