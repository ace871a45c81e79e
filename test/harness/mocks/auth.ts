// The local issuer's key: a real ECDSA P-256 key pair per resource name (made once per process),
// so the program derives a real JWKS and two runs of a stack see the same key.
import { generateKeyPairSync } from "node:crypto";
import { mockResourceOutputs } from "../mockRegistry";

const keys = new Map<string, Record<string, string>>();

export function mockPrivateKey(name: string): Record<string, string> {
    let key = keys.get(name);
    if (!key) {
        const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
        key = {
            privateKeyPem: pair.privateKey.export({ type: "sec1", format: "pem" }).toString(),
            privateKeyPemPkcs8: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
            publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
        };
        keys.set(name, key);
    }
    return key;
}

mockResourceOutputs("tls:index/privateKey:PrivateKey", (name) => ({ ...mockPrivateKey(name), id: name }));
