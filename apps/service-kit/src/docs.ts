// The docs page: Swagger UI (from swagger-ui-dist) on the service's own OpenAPI document. Its
// three files are served here directly: a docs plugin would load a static-file server and a YAML
// library into every process (about 5 MB of memory) for a page that is opened now and then.
import { createReadStream } from "node:fs";
import * as path from "node:path";
import { NotFoundError } from "./errors";
import type { Api } from "./server";

const DIST = path.dirname(require.resolve("swagger-ui-dist/package.json"));
const ASSETS: Record<string, string> = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};
/** Routes of the page itself stay out of the OpenAPI document. */
const HIDDEN = { schema: { hide: true } };

export function registerDocsPage(app: Api, opts: { docsPath: string; openapiPath: string; title: string }): void {
    const { docsPath, openapiPath } = opts;
    const title = opts.title.replace(/[<>&"]/g, "");
    const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title} API</title><link rel="stylesheet" href="${docsPath}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="${docsPath}/swagger-ui-bundle.js"></script><script src="${docsPath}/init.js"></script></body>
</html>
`;
    // A script file rather than an inline one, so a strict Content-Security-Policy allows the page.
    const init = `SwaggerUIBundle({ url: ${JSON.stringify(openapiPath)}, dom_id: "#swagger-ui", persistAuthorization: true });\n`;
    app.get(docsPath, HIDDEN, async (_req, reply) => reply.type("text/html; charset=utf-8").send(page));
    app.get(`${docsPath}/init.js`, HIDDEN, async (_req, reply) => reply.type("text/javascript; charset=utf-8").send(init));
    app.get(`${docsPath}/:asset`, HIDDEN, async (request, reply) => {
        const asset = (request.params as { asset: string }).asset;
        const type = ASSETS[asset];
        if (type === undefined) throw new NotFoundError("docs file", "path");
        return reply
            .type(type)
            .header("cache-control", "public, max-age=86400")
            .send(createReadStream(path.join(DIST, asset)));
    });
}
