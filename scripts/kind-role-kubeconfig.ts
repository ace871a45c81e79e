// Prints a kubeconfig for one team role on the local kind cluster, to try what the role may do:
//   npm run -s role-kubeconfig -- viewer --user alice > viewer.kubeconfig
//   kubectl --kubeconfig viewer.kubeconfig -n orders-apps get pods      # allowed
//   kubectl --kubeconfig viewer.kubeconfig -n orders-apps get secrets   # Forbidden
// Options: --stack <name> (default dev: its access.groups and kind cluster), --user <name>
// (default <role>-demo), --hours <n> (certificate lifetime, default 8), --context <kubectl context>.
//
// The identity is a client certificate whose organization (O=) is the role's group, signed by the
// cluster's CA through the CertificateSigningRequest API (signer kubernetes.io/kube-apiserver-client),
// approved with your own admin kubeconfig. The private key never leaves this machine. Needs openssl
// and kubectl on PATH; the dev stack must be up (`npm run up`).
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { groupOf, ROLE_DEFINITIONS, TEAM_ROLES, type TeamGroups, type TeamRole } from "../components/access";
import { kindClusterName } from "../components/cluster/kindSpec";
import { singleContextKubeconfig } from "../components/cluster/kubeconfigSpec";
import { parseCommandLine, wantsHelp } from "./lib/cliArgs";
import { loadStackFileConfig } from "./lib/stackFile";

/** Command-line name of a role: its ClusterRole without the prefix (viewer, operator, database-admin). */
export const roleArg = (role: TeamRole): string => ROLE_DEFINITIONS[role].clusterRole.replace(/^orders-platform-/, "");
export const ROLE_ARGS: Readonly<Record<string, TeamRole>> = Object.fromEntries(TEAM_ROLES.map((role) => [roleArg(role), role]));

export interface Options {
    role: TeamRole;
    stack: string;
    user?: string;
    hours: number;
    context?: string;
}

export const USAGE = `usage: npm run -s role-kubeconfig -- <${Object.keys(ROLE_ARGS).join("|")}> [--stack dev] [--user <name>] [--hours 8] [--context <kubectl context>]`;

export const HELP = `${USAGE}

Prints a kubeconfig for one team role on the stack's local kind cluster, to try what the role may
do. The identity is a client certificate (CN = the user, O = the role's group from access.groups)
signed by the cluster's CA through a CertificateSigningRequest that your own admin context approves;
the private key never leaves this machine. Needs kubectl and openssl on PATH and the cluster up
(\`npm run up\`). On EKS and GKE people get their groups from IAM or Google instead.

roles:
${TEAM_ROLES.map((role) => `  ${roleArg(role).padEnd(16)} ${ROLE_DEFINITIONS[role].description}`).join("\n")}

options:
  --stack <name>       stack whose kind cluster and access.groups are used (default dev)
  --user <name>        user name in the certificate: lowercase letters, digits, dots and dashes
                       (default <role>-demo)
  --hours <n>          certificate lifetime, 1 to 168 (default 8)
  --context <name>     kubectl context with admin rights (default kind-<cluster name>)
  -h, --help           this text

example:
  npm run -s role-kubeconfig -- viewer --user alice > viewer.kubeconfig
  kubectl --kubeconfig viewer.kubeconfig -n orders-apps get pods      # allowed
  kubectl --kubeconfig viewer.kubeconfig -n orders-apps get secrets   # Forbidden`;

export function parseArgs(argv: string[]): Options {
    const { values, positionals } = parseCommandLine(
        argv,
        {
            stack: { type: "string", default: "dev" },
            user: { type: "string" },
            hours: { type: "string", default: "8" },
            context: { type: "string" },
        },
        USAGE,
        1,
    );
    const opts: Partial<Options> = { stack: values.stack, hours: Number(values.hours) };
    if (values.user !== undefined) opts.user = values.user;
    if (values.context !== undefined) opts.context = values.context;
    if (positionals.length === 1) {
        const role = ROLE_ARGS[positionals[0]];
        if (!role) throw new Error(`unknown role "${positionals[0]}"; roles: ${Object.keys(ROLE_ARGS).join(", ")}\n${USAGE}`);
        opts.role = role;
    }
    if (!opts.role) throw new Error(`which role?\n${USAGE}`);
    if (!Number.isInteger(opts.hours) || opts.hours! < 1 || opts.hours! > 24 * 7)
        throw new Error(`--hours must be a whole number from 1 to 168`);
    if (opts.user !== undefined && !/^[a-z0-9][a-z0-9.-]{0,62}$/.test(opts.user)) {
        throw new Error(`--user "${opts.user}" must be lowercase letters, digits, dots and dashes`);
    }
    return opts as Options;
}

/** The certificate subject: the user as CN, the role's group as O (the API server reads groups from O). */
export function certificateSubject(role: TeamRole, groups: TeamGroups, user: string): string {
    const group = groupOf(role, groups);
    // openssl -subj separates fields with "/" and takes "\" as escape; group names carry neither.
    if (/[/\\]/.test(group) || /[/\\]/.test(user)) throw new Error(`"${user}" / "${group}" cannot be put in a certificate subject`);
    return `/CN=${user}/O=${group}`;
}

export function csrName(role: TeamRole, user: string): string {
    return `${ROLE_DEFINITIONS[role].clusterRole}-${user}`;
}

/** A CertificateSigningRequest for a client certificate the API server accepts. */
export function csrManifest(name: string, csrPem: string, hours: number) {
    return {
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        metadata: { name, labels: { "app.kubernetes.io/part-of": "orders-platform", "orders-platform/purpose": "role-kubeconfig" } },
        spec: {
            request: Buffer.from(csrPem).toString("base64"),
            signerName: "kubernetes.io/kube-apiserver-client",
            expirationSeconds: hours * 3600,
            usages: ["client auth"],
        },
    };
}

/** A kubeconfig with one cluster, one user (client certificate) and one context. */
export function roleKubeconfig(args: {
    clusterName: string;
    server: string;
    certificateAuthorityData: string;
    user: string;
    role: TeamRole;
    certificateData: string;
    keyPem: string;
}): string {
    const userName = `${args.user}@${args.clusterName}`;
    return singleContextKubeconfig({
        cluster: { name: args.clusterName, server: args.server, certificateAuthorityData: args.certificateAuthorityData },
        user: {
            name: userName,
            credentials: {
                "client-certificate-data": args.certificateData,
                "client-key-data": Buffer.from(args.keyPem).toString("base64"),
            },
        },
        context: { name: `${roleArg(args.role)}@${args.clusterName}`, namespace: ROLE_DEFINITIONS[args.role].namespace },
    });
}

/** A new P-256 key and a CSR for it (openssl; the key stays in a private temporary directory). */
export function createKeyAndCsr(subject: string): { keyPem: string; csrPem: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "role-kubeconfig-"));
    try {
        const keyFile = path.join(dir, "key.pem");
        execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile], { stdio: "pipe" });
        const csrPem = execFileSync("openssl", ["req", "-new", "-key", keyFile, "-subj", subject], { encoding: "utf8", stdio: "pipe" });
        return { keyPem: fs.readFileSync(keyFile, "utf8"), csrPem };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The last non-empty line of a tool's output (kubectl says the cause last). */
const lastLine = (text: string) =>
    text
        .trim()
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .pop() ?? "";

function kubectl(context: string, args: string[], input?: string): string {
    const r = spawnSync("kubectl", ["--context", context, ...args], { encoding: "utf8", input });
    if (r.error) throw new Error(`kubectl ${args.join(" ")}: ${r.error.message}`);
    if (r.status !== 0)
        throw new Error(`kubectl --context ${context} ${args.join(" ")} failed: ${lastLine(r.stderr) || `exit ${r.status}`}`);
    return r.stdout;
}

/**
 * Why the cluster cannot be used, as one sentence that says what to do; undefined when it answers.
 * Checked before anything is created, so a missing cluster is said once, not as kubectl's errors.
 */
export function clusterProblem(context: string, stack: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const run = (args: string[]) => spawnSync("kubectl", args, { encoding: "utf8", env, timeout: 20_000 });
    const contexts = run(["config", "get-contexts", context, "-o", "name"]);
    if (contexts.error) {
        return (contexts.error as NodeJS.ErrnoException).code === "ENOENT"
            ? "kubectl is not on PATH; install it (https://kubernetes.io/docs/tasks/tools/), then run `npm run up`, which checks every prerequisite of the dev stack"
            : `kubectl could not run: ${contexts.error.message}`;
    }
    if (contexts.status !== 0)
        return (
            `no kubectl context "${context}": the kind cluster of stack "${stack}" is not up. Run \`npm run up\` ` +
            "(it creates the cluster and its context), or pass --context <name> for a cluster you already have"
        );
    const answer = run(["--context", context, "--request-timeout=5s", "get", "--raw", "/readyz"]);
    if (answer.status !== 0)
        return (
            `the cluster of kubectl context "${context}" does not answer (${lastLine(answer.stderr) || answer.error?.message || `exit ${answer.status}`}). ` +
            "Is it running? `npm run up` creates or updates it; `kind get clusters` lists the clusters kind knows"
        );
    return undefined;
}

/** openssl creates the key and the request; without it nothing can start. */
function opensslProblem(): string | undefined {
    const r = spawnSync("openssl", ["version"], { encoding: "utf8" });
    return r.error || r.status !== 0
        ? "openssl is not on PATH; it creates the key and the certificate request (apt-get install openssl, brew install openssl)"
        : undefined;
}

export class PreflightError extends Error {
    override name = "PreflightError";
}

async function main(argv: string[]): Promise<void> {
    if (wantsHelp(argv)) {
        process.stdout.write(`${HELP}\n`);
        return;
    }
    const opts = parseArgs(argv);
    const config = loadStackFileConfig(opts.stack);
    if (config.cluster.provider !== "kind") {
        throw new Error(
            `stack "${opts.stack}" runs on ${config.cluster.provider}; on EKS and GKE people get their groups from IAM or Google (README, "Team access")`,
        );
    }
    const clusterName = kindClusterName(config.environment, config.cluster.kind!);
    const context = opts.context ?? `kind-${clusterName}`;
    const user = opts.user ?? `${roleArg(opts.role)}-demo`;
    const problem = opensslProblem() ?? clusterProblem(context, opts.stack);
    if (problem) throw new PreflightError(problem);
    const { keyPem, csrPem } = createKeyAndCsr(certificateSubject(opts.role, config.access.groups, user));

    const name = csrName(opts.role, user);
    kubectl(context, ["delete", "csr", name, "--ignore-not-found"]);
    kubectl(context, ["create", "-f", "-"], JSON.stringify(csrManifest(name, csrPem, opts.hours)));
    try {
        kubectl(context, ["certificate", "approve", name]);
        let certificateData = "";
        for (let attempt = 0; attempt < 30 && !certificateData; attempt++) {
            certificateData = kubectl(context, ["get", "csr", name, "-o", "jsonpath={.status.certificate}"]).trim();
            if (!certificateData) await new Promise((r) => setTimeout(r, 500));
        }
        if (!certificateData)
            throw new Error(`the cluster did not sign ${name} within 15 s (kubectl --context ${context} describe csr ${name})`);
        const admin = JSON.parse(kubectl(context, ["config", "view", "--raw", "--minify", "-o", "json"])) as {
            clusters: Array<{ cluster: { server: string; "certificate-authority-data": string } }>;
        };
        process.stdout.write(
            roleKubeconfig({
                clusterName,
                server: admin.clusters[0].cluster.server,
                certificateAuthorityData: admin.clusters[0].cluster["certificate-authority-data"],
                user,
                role: opts.role,
                certificateData,
                keyPem,
            }) + "\n",
        );
        process.stderr.write(
            `kubeconfig for ${user} in group ${groupOf(opts.role, config.access.groups)} (role ${ROLE_DEFINITIONS[opts.role].clusterRole}: ` +
                `${ROLE_DEFINITIONS[opts.role].description}), valid ${opts.hours} h\n`,
        );
    } finally {
        // The signed certificate is in the kubeconfig; the request object has done its work. A failed
        // clean-up must not hide the error that brought us here.
        try {
            kubectl(context, ["delete", "csr", name, "--ignore-not-found"]);
        } catch (err) {
            process.stderr.write(`warning: ${(err as Error).message}\n`);
        }
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: Error) => {
        process.stderr.write(`error: ${err.message}\n`);
        process.exitCode = 1;
    });
}
