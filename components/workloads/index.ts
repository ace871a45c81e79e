export { MicroService } from "./microService";
export type { MicroServiceArgs, MicroServiceImages, DatabaseSecretRef } from "./microService";
export * from "./microServiceSpec";
