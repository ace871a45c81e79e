// scripts/kind-role-kubeconfig.ts: the parts that need no cluster (openssl and kubectl run for real).
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { accessSchema } from "../components/config";
import {
    certificateSubject,
    clusterProblem,
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
        assert.deepEqual(parseArgs(["database-admin", "--user", "alice", "--hours", "2", "--stack", "dev"]), {
            role: "databaseAdmin",
            stack: "dev",
            hours: 2,
            user: "alice",
        });
        assert.throws(() => parseArgs([]), /which role\?/);
        assert.throws(() => parseArgs(["admin"]), /unknown role "admin"; roles: viewer, operator, database-admin/);
        assert.throws(() => parseArgs(["viewer", "--hours", "0"]), /--hours must be a whole number from 1 to 168/);
        assert.throws(() => parseArgs(["viewer", "--user", "Alice/x"]), /--user "Alice\/x" must be/);
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
        const csr = csrManifest(csrName("databaseAdmin", "alice"), "PEM", 8);
        assert.equal(csr.metadata.name, "orders-platform-database-admin-alice");
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
                user: "alice",
                role: "databaseAdmin",
                certificateData: "Q0VSVA==",
                keyPem: "KEY",
            }),
        );
        assert.equal(config["current-context"], "database-admin@orders-dev");
        assert.deepEqual(config.contexts[0].context, { cluster: "orders-dev", user: "alice@orders-dev", namespace: "orders-data" });
        assert.deepEqual(config.users[0].user, {
            "client-certificate-data": "Q0VSVA==",
            "client-key-data": Buffer.from("KEY").toString("base64"),
        });
        assert.equal(config.clusters[0].cluster["certificate-authority-data"], "Q0E=");
    });
});

describe("kind role kubeconfig without a usable cluster", function () {
    this.timeout(60_000);
    const hasKubectl = spawnSync("kubectl", ["version", "--client"]).status === 0;
    let dir: string;
    before(function () {
        if (!hasKubectl) this.skip(); // kubectl itself is what these tests exercise
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "role-kubeconfig-"));
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    /** A port on loopback that nothing listens on (taken, then released). */
    async function closedPort(): Promise<number> {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as net.AddressInfo;
        await new Promise((resolve) => server.close(resolve));
        return port;
    }

    function kubeconfigTo(server: string): string {
        const file = path.join(dir, "kubeconfig");
        fs.writeFileSync(
            file,
            JSON.stringify({
                apiVersion: "v1",
                kind: "Config",
                clusters: [{ name: "c", cluster: { server } }],
                users: [{ name: "u", user: { token: "t" } }],
                contexts: [{ name: "kind-orders-dev", context: { cluster: "c", user: "u" } }],
                "current-context": "kind-orders-dev",
            }),
        );
        return file;
    }

    it("names what to run when the context does not exist, or its API server does not answer", async () => {
        const empty = path.join(dir, "empty");
        fs.writeFileSync(empty, "");
        assert.equal(
            clusterProblem("kind-orders-dev", "dev", { ...process.env, KUBECONFIG: empty }),
            'no kubectl context "kind-orders-dev": the kind cluster of stack "dev" is not up. Run `npm run up` ' +
                "(it creates the cluster and its context), or pass --context <name> for a cluster you already have",
        );
        const port = await closedPort();
        assert.match(
            clusterProblem("kind-orders-dev", "dev", { ...process.env, KUBECONFIG: kubeconfigTo(`https://127.0.0.1:${port}`) }) ?? "",
            new RegExp(
                `^the cluster of kubectl context "kind-orders-dev" does not answer \\(.*127\\.0\\.0\\.1:${port}.*\\)\\. Is it running\\? \`npm run up\` creates`,
            ),
        );
        assert.match(clusterProblem("kind-orders-dev", "dev", { ...process.env, PATH: dir }) ?? "", /^kubectl is not on PATH; install it/);
    });

    it("the script says it once, in one line, and creates nothing", () => {
        const empty = path.join(dir, "empty");
        fs.writeFileSync(empty, "");
        const r = spawnSync(
            process.execPath,
            ["--import", "tsx", path.join(__dirname, "..", "scripts", "kind-role-kubeconfig.ts"), "viewer"],
            {
                encoding: "utf8",
                env: { ...process.env, KUBECONFIG: empty },
            },
        );
        assert.equal(r.status, 1);
        assert.equal(r.stdout, "");
        assert.equal(
            r.stderr,
            'error: no kubectl context "kind-orders-dev": the kind cluster of stack "dev" is not up. Run `npm run up` ' +
                "(it creates the cluster and its context), or pass --context <name> for a cluster you already have\n",
        );
    });
});
