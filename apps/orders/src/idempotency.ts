// Idempotency keys: scoped to the user (two users' equal keys are two requests) and kept for a
// configurable time (IDEMPOTENCY_TTL_SECONDS). Expired keys stop replaying at once and are
// deleted in batches by a periodic cleanup.
import type { Db, Logger } from "@orders-platform/service-kit";

const BATCH = 1_000;

export class IdempotencyKeys {
    private timer?: NodeJS.Timeout;
    private running?: Promise<unknown>;

    constructor(
        private readonly db: Db,
        readonly ttlSeconds: number,
        private readonly log: Logger,
    ) {}

    /** Deletes every expired key; returns how many. */
    async purgeExpired(): Promise<number> {
        let total = 0;
        for (;;) {
            // Small batches keep each statement short under the statement timeout.
            const rows = await this.db.query<{ n: number }>(
                `WITH gone AS (
                     DELETE FROM idempotency_keys WHERE ctid IN (
                         SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT ${BATCH})
                     RETURNING 1)
                 SELECT count(*)::int AS n FROM gone`,
                [],
                "idempotency_purge",
            );
            const n = Number(rows[0].n);
            total += n;
            if (n < BATCH) return total;
        }
    }

    /** Purges now and then every min(TTL, 10 minutes). */
    startCleanup(): void {
        const everyMs = 1000 * Math.min(this.ttlSeconds, 600);
        const run = () => {
            this.running = this.purgeExpired().then(
                (n) => n > 0 && this.log.info({ deleted: n }, "expired idempotency keys deleted"),
                (err) => this.log.warn({ err }, "idempotency key cleanup failed"),
            );
        };
        run();
        this.timer = setInterval(run, everyMs);
        this.timer.unref();
    }

    async stop(): Promise<void> {
        clearInterval(this.timer);
        await this.running;
    }
}
