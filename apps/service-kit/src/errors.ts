// Errors that map to an HTTP answer. Everything else is an internal error (500).

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
