// The dev stack's own token issuer: an ECDSA P-256 key in the stack's state (a Pulumi secret).
// Istio and the apps get only its public JWKS; `npm run token` signs tokens with the private key,
// which never leaves the state except to whoever may read the stack's secrets.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { LOCAL_ISSUER, LOCAL_KEY_ALGORITHM, publicJwks } from "./authSpec";

export interface LocalIssuerArgs {
    /** Audience the minted tokens carry (the first configured one). */
    audience: string;
    /** Claim names the edge and the apps read (auth config), so minted tokens carry them. */
    claims: LocalIssuerClaims;
}

export interface LocalIssuerClaims {
    user: string;
    /** The verified email address claims (minted as `<user>@example.com`, verified). */
    email: string;
    emailVerified: string;
    roles: string;
    canary: { name: string; value: string };
}

/** What `npm run token` needs to mint a token (stack output `devAuth`). */
export interface LocalIssuerOutput {
    issuer: string;
    audience: string;
    algorithm: string;
    keyId: string;
    claims: LocalIssuerClaims;
    /** PKCS#8 PEM; a Pulumi secret. */
    privateKeyPem: string;
}

export class LocalIssuer extends pulumi.ComponentResource {
    /** Public JWKS (JSON text) for Istio and the apps. */
    public readonly jwks: pulumi.Output<string>;
    public readonly keyId: pulumi.Output<string>;
    /** The signing material as a secret stack output. */
    public readonly signing: pulumi.Output<LocalIssuerOutput>;

    constructor(name: string, args: LocalIssuerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:auth:LocalIssuer", name, {}, opts);
        const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        this.jwks = key.publicKeyPem.apply((pem) => publicJwks(pem));
        this.keyId = this.jwks.apply((text) => String(JSON.parse(text).keys[0].kid));
        this.signing = pulumi.secret(
            pulumi.all([this.keyId, key.privateKeyPemPkcs8]).apply(([keyId, privateKeyPem]) => ({
                issuer: LOCAL_ISSUER,
                audience: args.audience,
                algorithm: LOCAL_KEY_ALGORITHM,
                keyId,
                claims: args.claims,
                privateKeyPem,
            })),
        );
        this.registerOutputs({ jwks: this.jwks, keyId: this.keyId });
    }
}
