// "Which profile does this caller have?" against the users service, with the caller's own token
// (users authorizes the same user). Profiles are never deleted, so a found id is cached per subject
// (bounded); "no profile" is not cached at all. Concurrent lookups for one subject share one call.
import { BoundedMap, DependencyError, isUuid, ServiceClient, Span } from "@orders-platform/service-kit";

export interface Caller {
    subject: string;
    /** The caller's `Authorization` header, forwarded as it came. */
    authorization: string;
    span?: Span;
}

export interface ProfileDirectory {
    /** The caller's profile id, or undefined when they have none yet. */
    profileId(caller: Caller): Promise<string | undefined>;
}

export class UsersClient implements ProfileDirectory {
    private readonly known: BoundedMap<string, string>;
    private readonly pending = new Map<string, Promise<string | undefined>>();

    constructor(
        private readonly client: ServiceClient,
        cacheSize = 100_000,
    ) {
        this.known = new BoundedMap(cacheSize);
    }

    profileId(caller: Caller): Promise<string | undefined> {
        const id = this.known.get(caller.subject);
        if (id !== undefined) return Promise.resolve(id);
        let p = this.pending.get(caller.subject);
        if (p === undefined) {
            p = this.lookup(caller).finally(() => this.pending.delete(caller.subject));
            this.pending.set(caller.subject, p);
        }
        return p;
    }

    private async lookup(caller: Caller): Promise<string | undefined> {
        const res = await this.client.get("/api/users/me", { headers: { authorization: caller.authorization }, parent: caller.span });
        if (res.status === 404) return undefined;
        const id = res.status === 200 ? (JSON.parse(res.body) as { id?: unknown }).id : undefined;
        if (!isUuid(id)) throw new DependencyError("users", `users answered ${res.status} for the caller's profile`);
        this.known.set(caller.subject, id);
        return id;
    }
}
