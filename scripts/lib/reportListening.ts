// Loaded into each app by `npm run dev` (node --import): reports over the IPC channel every
// address this process starts listening on. The parent then knows that the server answering on a
// port is its own child, never another process that holds the same port.
import * as net from "node:net";

export interface ListeningMessage {
    type: "listening";
    address: string;
    port: number;
}

if (process.send) {
    const listen = net.Server.prototype.listen;
    net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
        this.once("listening", () => {
            const address = this.address();
            if (address && typeof address === "object") {
                const message: ListeningMessage = { type: "listening", address: address.address, port: address.port };
                process.send?.(message);
            }
        });
        return listen.apply(this, args as Parameters<typeof listen>);
    } as typeof listen;
    // The channel only reports; it must not keep the app alive after its server closes.
    process.channel?.unref();
}
