// scripts/kind-role-kubeconfig.ts: the parts that need no cluster (openssl runs for real).
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { accessSchema } from "../components/config";
import {
    certificateSubject,
    createKeyAndCsr,
    csrManifest,
    csrName,
    parseArgs,
    roleKubeconfig,
    ROLE_ARGS,
} from "../scripts/kind-role-kubeconfig";
import { loadStackFileConfig } from "../scripts/lib/stackFile";

const GROUPS = accessSchema.parse({}).groups;

describe("kind role kubeconfig", () => {
    it("knows one command-line name per team role", () => {
        assert.deepEqual(ROLE_ARGS, { viewer: "viewer", operator: "operator", "database-admin": "databaseAdmin" });
    });

    it("parses the role and options, and refuses what it cannot use", () => {
        assert.deepEqual(parseArgs(["viewer"]), { role: "viewer", stack: "dev", hours: 8 });
        assert.deepEqual(parseArgs(["database-admin", "--user", "ada", "--hours", "2", "--stack", "dev"]), {
            role: "databaseAdmin",
            stack: "dev",
            hours: 2,
            user: "ada",
        });
        assert.throws(() => parseArgs([]), /which role\?/);
        assert.throws(() => parseArgs(["admin"]), /unknown role "admin"; roles: viewer, operator, database-admin/);
        assert.throws(() => parseArgs(["viewer", "--hours", "0"]), /--hours must be a whole number from 1 to 168/);
        assert.throws(() => parseArgs(["viewer", "--user", "Ada/x"]), /--user "Ada\/x" must be/);
        assert.throws(() => parseArgs(["viewer", "operator"]), /unexpected argument "operator"\nusage: npm run -s role-kubeconfig/);
        assert.throws(() => parseArgs(["viewer", "--user"]), /Option '--user <value>' argument missing\nusage: npm run -s role-kubeconfig/);
    });

    it("takes the groups from the stack's access.groups", () => {
        const dev = loadStackFileConfig("dev");
        assert.equal(certificateSubject("viewer", dev.access.groups, "viewer-demo"), `/CN=viewer-demo/O=${dev.access.groups.viewers}`);
    });

    it("creates a key and a CSR whose subject carries the role's group as organization", () => {
        const { keyPem, csrPem } = createKeyAndCsr(certificateSubject("operator", GROUPS, "op-demo"));
        assert.match(keyPem, /-----BEGIN PRIVATE KEY-----/);
        const subject = execFileSync("openssl", ["req", "-noout", "-subject", "-nameopt", "RFC2253"], { input: csrPem, encoding: "utf8" });
        assert.equal(subject.trim(), "subject=O=orders-platform:operators,CN=op-demo");
    });

    it("asks the API server's client signer for a client certificate with a lifetime", () => {
        const csr = csrManifest(csrName("databaseAdmin", "ada"), "PEM", 8);
        assert.equal(csr.metadata.name, "orders-platform-database-admin-ada");
        assert.deepEqual(csr.spec, {
            request: Buffer.from("PEM").toString("base64"),
            signerName: "kubernetes.io/kube-apiserver-client",
            expirationSeconds: 28800,
            usages: ["client auth"],
        });
    });

    it("writes a kubeconfig with the signed certificate, the key and the role's namespace", () => {
        const config = JSON.parse(
            roleKubeconfig({
                clusterName: "orders-dev",
                server: "https://127.0.0.1:6443",
                certificateAuthorityData: "Q0E=",
                user: "ada",
                role: "databaseAdmin",
                certificateData: "Q0VSVA==",
                keyPem: "KEY",
            }),
        );
        assert.equal(config["current-context"], "database-admin@orders-dev");
        assert.deepEqual(config.contexts[0].context, { cluster: "orders-dev", user: "ada@orders-dev", namespace: "orders-data" });
        assert.deepEqual(config.users[0].user, {
            "client-certificate-data": "Q0VSVA==",
            "client-key-data": Buffer.from("KEY").toString("base64"),
        });
        assert.equal(config.clusters[0].cluster["certificate-authority-data"], "Q0E=");
    });
});
