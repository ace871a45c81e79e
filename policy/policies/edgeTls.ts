// TLS on public edges: Istio Gateways serve HTTPS with a certificate and only redirect plain
// HTTP; Ingresses have spec.tls covering every host.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configWithDefaults, excludedNamespacesSchema, stringList } from "../lib/config";
import { asArray, describeObject, isExcludedNamespace, isObj, kubeType, namespaceOf } from "../lib/k8s";

interface EdgeTlsConfig {
    excludedNamespaces: string[];
    allowedTlsModes: string[];
}

const configSchema = {
    properties: {
        excludedNamespaces: excludedNamespacesSchema,
        allowedTlsModes: stringList("Accepted tls.mode of HTTPS servers on Istio Gateways.", ["SIMPLE", "MUTUAL"]),
    },
};

const PLAIN = ["HTTP", "HTTP2", "GRPC"];
const SECURE = ["HTTPS", "TLS"];

function hostCovered(host: string, tlsHosts: string[]): boolean {
    return tlsHosts.some(
        (t) => t === host || (t.startsWith("*.") && host.endsWith(t.slice(1)) && !host.slice(0, -t.length + 1).includes(".")),
    );
}

function checkGateway(label: string, spec: Record<string, any>, cfg: EdgeTlsConfig, report: (m: string) => void): void {
    const servers = asArray(spec.servers);
    let https = 0;
    servers.forEach((s: unknown, i) => {
        if (!isObj(s)) return;
        const port = isObj(s.port) ? s.port : {};
        const protocol = String(port.protocol ?? "").toUpperCase();
        const at = `${label}: server ${i} (spec.servers[${i}], port ${port.number ?? "?"} ${protocol || "?"})`;
        const tls = isObj(s.tls) ? s.tls : {};
        if (SECURE.includes(protocol) || port.number === 443) {
            https++;
            if (!cfg.allowedTlsModes.includes(String(tls.mode))) {
                report(
                    `${at}: tls.mode is ${tls.mode === undefined ? "not set" : `"${tls.mode}"`}; set tls.mode to ${cfg.allowedTlsModes.join(" or ")}`,
                );
            }
            if (typeof tls.credentialName !== "string" || tls.credentialName === "") {
                report(`${at}: tls.credentialName is not set; name the kubernetes.io/tls Secret holding the certificate`);
            }
        } else if (PLAIN.includes(protocol)) {
            if (tls.httpsRedirect !== true) {
                report(
                    `${at}: serves plain ${protocol} without redirecting; set tls.httpsRedirect: true (and serve the hosts on an HTTPS server)`,
                );
            }
        }
    });
    if (https === 0) report(`${label}: has no HTTPS server; add a port 443 HTTPS server with tls.mode SIMPLE and a credentialName`);
}

function checkIngress(label: string, spec: Record<string, any>, report: (m: string) => void): void {
    const tls = asArray(spec.tls).filter(isObj);
    if (tls.length === 0) {
        report(`${label}: spec.tls is not set, so the edge serves plain HTTP; add spec.tls with the hosts and a secretName`);
        return;
    }
    const tlsHosts = tls.flatMap((t) => asArray<string>(t.hosts));
    const catchAll = tls.some((t) => asArray(t.hosts).length === 0);
    tls.forEach((t, i) => {
        if (typeof t.secretName !== "string" || t.secretName === "")
            report(`${label}: spec.tls[${i}].secretName is not set; name the kubernetes.io/tls Secret of the certificate`);
    });
    asArray(spec.rules).forEach((r: unknown, i) => {
        if (!isObj(r)) return;
        if (typeof r.host !== "string" || r.host === "") {
            if (!catchAll)
                report(
                    `${label}: spec.rules[${i}] has no host, so no spec.tls entry covers it; set a host and list it in spec.tls[].hosts`,
                );
        } else if (!hostCovered(r.host, tlsHosts)) {
            report(`${label}: host "${r.host}" (spec.rules[${i}]) is not listed in spec.tls[].hosts; add it to a TLS entry`);
        }
    });
}

export const edgeTls: ResourceValidationPolicy = {
    name: "edge-tls",
    description:
        "Public edges use TLS: Istio Gateway servers on 443/HTTPS have tls.mode SIMPLE/MUTUAL and a credentialName and plain HTTP servers only redirect; Ingresses have spec.tls covering their hosts.",
    severity: "high",
    enforcementLevel: "advisory",
    configSchema,
    validateResource: (args, report) => {
        const t = kubeType(args.type);
        if (!t) return;
        const isGateway = t.kind === "Gateway" && t.group === "networking.istio.io";
        const isIngress = t.kind === "Ingress" && (t.group === "networking.k8s.io" || t.group === "extensions");
        if (!isGateway && !isIngress) return;
        const cfg = configWithDefaults<EdgeTlsConfig>(configSchema, args);
        if (isExcludedNamespace(namespaceOf(args.props), cfg.excludedNamespaces)) return;
        const spec = isObj(args.props.spec) ? args.props.spec : {};
        const label = describeObject(t.kind, args.props, args.name);
        if (isGateway) checkGateway(label, spec, cfg, (m) => report(m));
        else checkIngress(label, spec, (m) => report(m));
    },
};
