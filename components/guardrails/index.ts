export { AdmissionPolicies, type AdmissionPoliciesArgs } from "./admissionPolicies";
export { admissionSpecs, policyConfigOf } from "./admissionSpec";
