import { RunningService, ServiceDefinition, startService, StartOptions } from "@orders-platform/service-kit";
import manifest from "../package.json";
import { migrations } from "./migrations";
import { userRoutes } from "./users";

export const usersService: ServiceDefinition = {
    manifest,
    migrations,
    build: ({ db }) => ({ routes: (api) => userRoutes(api, db) }),
};

export function startUsers(opts: StartOptions = {}): Promise<RunningService> {
    return startService(usersService, opts);
}
