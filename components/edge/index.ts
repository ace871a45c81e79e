export { IngressEdge } from "./ingressEdge";
export type { IngressEdgeArgs } from "./ingressEdge";
export * from "./ingressSpec";
