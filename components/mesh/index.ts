export { Istio } from "./istio";
export type { IstioArgs } from "./istio";
export { MeshTraffic, edgeUrl } from "./meshTraffic";
export type { MeshNamespaces, MeshTrafficArgs } from "./meshTraffic";
export * from "./istioValues";
export * from "./trafficSpec";
export * from "./authorizationSpec";
