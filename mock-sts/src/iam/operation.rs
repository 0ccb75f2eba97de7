//! The IAM operations the harness implements, named once: parsed from a request's `Action`
//! once, then matched exhaustively by validation, authorisation and execution.

use crate::error::IamError;

/// Declares the operations: each variant's name is the operation's `Action` name.
macro_rules! operations {
    ($($operation:ident),* $(,)?) => {
        /// An implemented IAM operation (API version 2010-05-08).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum IamOperation {
            $($operation),*
        }

        impl IamOperation {
            /// Every implemented operation.
            pub const ALL: &[IamOperation] = &[$(IamOperation::$operation),*];

            /// The operation's `Action` name (`CreateRole`).
            pub fn name(self) -> &'static str {
                match self {
                    $(IamOperation::$operation => stringify!($operation)),*
                }
            }
        }
    };
}

operations![
    CreateOpenIDConnectProvider,
    GetOpenIDConnectProvider,
    ListOpenIDConnectProviders,
    DeleteOpenIDConnectProvider,
    AddClientIDToOpenIDConnectProvider,
    UpdateOpenIDConnectProviderThumbprint,
    CreatePolicy,
    GetPolicy,
    GetPolicyVersion,
    CreateRole,
    GetRole,
    DeleteRole,
    UpdateAssumeRolePolicy,
    UpdateRole,
    AttachRolePolicy,
    DetachRolePolicy,
    ListAttachedRolePolicies,
    PutRolePolicy,
    GetRolePolicy,
    PutRolePermissionsBoundary,
];

/// A request parameter and its model member name, as validation errors name it
/// (`RoleName` → `roleName`).
pub type Parameter = (&'static str, &'static str);

const ROLE_NAME: Parameter = ("RoleName", "roleName");
const PROVIDER_ARN: Parameter = ("OpenIDConnectProviderArn", "openIDConnectProviderArn");
const POLICY_ARN: Parameter = ("PolicyArn", "policyArn");
const POLICY_NAME: Parameter = ("PolicyName", "policyName");
const POLICY_DOCUMENT: Parameter = ("PolicyDocument", "policyDocument");

impl std::str::FromStr for IamOperation {
    type Err = IamError;

    /// The operation an `Action` parameter names; IAM's `InvalidAction` for any other name.
    fn from_str(name: &str) -> Result<Self, IamError> {
        Self::ALL
            .iter()
            .copied()
            .find(|op| op.name() == name)
            .ok_or_else(|| IamError::InvalidAction {
                action: name.to_owned(),
            })
    }
}

impl IamOperation {
    /// The parameters the model requires (botocore's IAM model, `required` of each input).
    pub fn required_parameters(self) -> &'static [Parameter] {
        use IamOperation as Op;
        match self {
            Op::CreateOpenIDConnectProvider => &[("Url", "url")],
            Op::GetOpenIDConnectProvider | Op::DeleteOpenIDConnectProvider => &[PROVIDER_ARN],
            Op::AddClientIDToOpenIDConnectProvider => &[PROVIDER_ARN, ("ClientID", "clientID")],
            Op::UpdateOpenIDConnectProviderThumbprint => {
                &[PROVIDER_ARN, ("ThumbprintList", "thumbprintList")]
            }
            Op::ListOpenIDConnectProviders => &[],
            Op::CreatePolicy => &[POLICY_NAME, POLICY_DOCUMENT],
            Op::GetPolicy => &[POLICY_ARN],
            Op::GetPolicyVersion => &[POLICY_ARN, ("VersionId", "versionId")],
            Op::CreateRole => &[
                ROLE_NAME,
                ("AssumeRolePolicyDocument", "assumeRolePolicyDocument"),
            ],
            Op::UpdateAssumeRolePolicy => &[ROLE_NAME, POLICY_DOCUMENT],
            Op::AttachRolePolicy | Op::DetachRolePolicy => &[ROLE_NAME, POLICY_ARN],
            Op::PutRolePolicy => &[ROLE_NAME, POLICY_NAME, POLICY_DOCUMENT],
            Op::GetRolePolicy => &[ROLE_NAME, POLICY_NAME],
            Op::PutRolePermissionsBoundary => {
                &[ROLE_NAME, ("PermissionsBoundary", "permissionsBoundary")]
            }
            Op::GetRole | Op::DeleteRole | Op::UpdateRole | Op::ListAttachedRolePolicies => {
                &[ROLE_NAME]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_found_by_its_name_and_nothing_else_is() {
        assert_eq!(IamOperation::ALL.len(), 20);
        for op in IamOperation::ALL {
            assert_eq!(op.name().parse::<IamOperation>(), Ok(*op));
        }
        assert_eq!(
            IamOperation::CreateOpenIDConnectProvider.name(),
            "CreateOpenIDConnectProvider"
        );
        for other in ["CreateUser", "createrole", ""] {
            assert_eq!(
                other.parse::<IamOperation>(),
                Err(IamError::InvalidAction {
                    action: other.to_owned()
                })
            );
        }
    }
}
