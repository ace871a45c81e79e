import { ServiceDefinition, startService, StartOptions, RunningService } from "@orders-platform/service-kit";
import manifest from "../package.json";
import { migrations } from "./migrations";
import { userRoutes } from "./users";

export const usersService: ServiceDefinition = {
    manifest,
    migrations,
    build: ({ db }) => ({ routes: userRoutes(db) }),
};

export function startUsers(opts: StartOptions = {}): Promise<RunningService> {
    return startService(usersService, opts);
}
