// "Does this user exist?" against the users service. Users are never deleted, so a positive
// answer is cached (bounded); a negative one is not cached at all. Concurrent checks for the
// same id share one call.
import { DependencyError, ServiceClient, Span } from "@orders-platform/service-kit";

export interface UserDirectory {
    exists(userId: string, span?: Span): Promise<boolean>;
}

export class UsersClient implements UserDirectory {
    private readonly known = new Map<string, true>();
    private readonly pending = new Map<string, Promise<boolean>>();

    constructor(
        private readonly client: ServiceClient,
        private readonly cacheSize = 100_000,
    ) {}

    exists(userId: string, span?: Span): Promise<boolean> {
        if (this.known.has(userId)) return Promise.resolve(true);
        let p = this.pending.get(userId);
        if (p === undefined) {
            p = this.lookup(userId, span).finally(() => this.pending.delete(userId));
            this.pending.set(userId, p);
        }
        return p;
    }

    private async lookup(userId: string, span?: Span): Promise<boolean> {
        const res = await this.client.get(`/api/users/${encodeURIComponent(userId)}`, span);
        if (res.status === 200) {
            if (this.cacheSize === 0) return true;
            if (this.known.size >= this.cacheSize) this.known.delete(this.known.keys().next().value as string);
            this.known.set(userId, true);
            return true;
        }
        if (res.status === 404) return false;
        throw new DependencyError("users", `users answered ${res.status} for a user lookup`);
    }
}
