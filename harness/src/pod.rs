//! What a pod is given: the IRSA webhook's mutation (environment, projected token volume,
//! mount), the token and env files `irsa up` writes for it, the manifests the mutation is
//! applied to (`irsa inject`, the AdmissionReview endpoint) and the AWS config profile access
//! method.
//!
//! `webhook_mutation` is the amazon-eks-pod-identity-webhook's *web-identity* mutation (IRSA).
//! EKS Pod Identity (the `eks-auth` agent) is a different AWS feature and gets its own module.

pub mod env;
pub mod inject;
pub mod profile;
pub mod webhook_mutation;
