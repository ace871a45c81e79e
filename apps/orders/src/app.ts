import {
    intFromEnv,
    RunningService,
    ServiceClient,
    ServiceDefinition,
    startService,
    StartOptions,
    urlFromEnv,
} from "@orders-platform/service-kit";
import manifest from "../package.json";
import { IdempotencyKeys } from "./idempotency";
import { migrations } from "./migrations";
import { orderRoutes } from "./orders";
import { UsersClient } from "./usersClient";

export const ordersService: ServiceDefinition = {
    manifest,
    migrations,
    build: ({ db, env, log, metrics, tracer }) => {
        const client = new ServiceClient({
            name: "users",
            baseUrl: urlFromEnv(env, "USERS_URL", ["http:", "https:"]) ?? "http://127.0.0.1:8081",
            timeoutMs: intFromEnv(env, "USERS_TIMEOUT_MS", 1_000, 10, 60_000),
            retries: intFromEnv(env, "USERS_RETRIES", 1, 0, 5),
            retryBackoffMs: 50,
            breakerThreshold: intFromEnv(env, "USERS_BREAKER_THRESHOLD", 5, 1, 1_000),
            breakerResetMs: intFromEnv(env, "USERS_BREAKER_RESET_MS", 5_000, 100, 600_000),
            log,
            registry: metrics.registry,
            tracer,
        });
        const users = new UsersClient(client, intFromEnv(env, "USERS_CACHE_SIZE", 100_000, 0, 10_000_000));
        const keys = new IdempotencyKeys(db, intFromEnv(env, "IDEMPOTENCY_TTL_SECONDS", 86_400, 1, 30 * 86_400), log);
        return {
            routes: (api) => orderRoutes(api, db, users, keys),
            afterMigrations: () => keys.startCleanup(),
            close: async () => {
                await keys.stop();
                client.close();
            },
        };
    },
};

export function startOrders(opts: StartOptions = {}): Promise<RunningService> {
    return startService(ordersService, opts);
}
