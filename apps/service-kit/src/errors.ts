// Errors that map to an HTTP answer (the server's error handler renders them). Everything else is 500.

export interface ErrorBody {
    error: string;
    message: string;
    field?: string;
    [extra: string]: unknown;
}

export class HttpError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
        readonly field?: string,
        readonly extra: Record<string, unknown> = {},
        readonly headers: Record<string, string> = {},
    ) {
        super(message);
        this.name = "HttpError";
    }

    body(): ErrorBody {
        const b: ErrorBody = { error: this.code, message: this.message };
        if (this.field !== undefined) b.field = this.field;
        return { ...b, ...this.extra };
    }
}

/** 400 naming the offending field (a JSON path like `items[2].quantity`, a query parameter or a header). */
export class ValidationError extends HttpError {
    constructor(field: string, message: string) {
        super(400, "validation_failed", `${field}: ${message}`, field);
        this.name = "ValidationError";
    }
}

export class NotFoundError extends HttpError {
    constructor(what: string, field = "id") {
        super(404, "not_found", `${what} not found`, field);
        this.name = "NotFoundError";
    }
}

/** A dependency (database, another service) is unavailable: 503 with Retry-After. */
export class DependencyError extends HttpError {
    constructor(
        readonly dependency: string,
        message: string,
        readonly cause?: unknown,
    ) {
        super(503, "dependency_unavailable", message, undefined, { dependency }, { "retry-after": "1" });
        this.name = "DependencyError";
    }
}

/** No or an invalid bearer token: 401 with the RFC 6750 challenge. */
export class UnauthorizedError extends HttpError {
    constructor(message: string, invalidToken: boolean) {
        super(
            401,
            "unauthorized",
            message,
            "Authorization",
            {},
            {
                "www-authenticate": invalidToken ? 'Bearer error="invalid_token"' : "Bearer",
            },
        );
        this.name = "UnauthorizedError";
    }
}

/** Authenticated, but the operation needs a role the caller lacks. */
export class ForbiddenError extends HttpError {
    constructor(message: string) {
        super(403, "forbidden", message);
        this.name = "ForbiddenError";
    }
}
