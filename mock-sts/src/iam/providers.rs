//! IAM OIDC identity providers: create, read, list, delete, and the client ids and thumbprints
//! a provider trusts.

use irsa_core::token::{IssuerTls, JwksSource};
use irsa_core::world::{OidcProvider, World};

use crate::error::IamError;
use crate::query::Query;

use super::{CLIENT_IDS_PER_PROVIDER, THUMBPRINTS_PER_PROVIDER, Xml, leaf, param};

/// `CreateOpenIDConnectProvider`; an omitted `ThumbprintList` is retrieved from the issuer.
pub(super) fn create(
    world: &mut World,
    q: &Query,
    now: i64,
    issuers: &dyn JwksSource,
) -> Result<Option<Xml>, IamError> {
    let url = q.get("Url").unwrap_or_default();
    if !url.starts_with("https://") {
        // [rec] IAM requires https; its exact text was not captured.
        return Err(IamError::InvalidInput(format!(
            "The URL {url} is not a valid https URL"
        )));
    }
    let client_ids = q.list("ClientIDList").unwrap_or_default();
    for c in &client_ids {
        check_client_id(c)?;
    }
    if client_ids.len() > CLIENT_IDS_PER_PROVIDER {
        return Err(client_ids_quota());
    }
    let thumbprints = thumbprints(q)?;
    let mut provider = OidcProvider::new(&world.account, url, dedup(client_ids));
    if world.oidc_providers.iter().any(|p| p.url == provider.url) {
        // [mem]
        return Err(IamError::EntityAlreadyExists(format!(
            "Provider with url {url} already exists."
        )));
    }
    provider.thumbprints = if thumbprints.is_empty() {
        retrieved_thumbprint(issuers, url)
    } else {
        thumbprints
    };
    provider.create_date = now;
    let arn = provider.arn.clone();
    world.oidc_providers.push(provider);
    Ok(Some(Xml::Node(
        "CreateOpenIDConnectProviderResult",
        vec![leaf("OpenIDConnectProviderArn", arn)],
    )))
}

/// `GetOpenIDConnectProvider`.
pub(super) fn get(world: &World, q: &Query) -> Result<Option<Xml>, IamError> {
    let p = provider(world, &param(q, "OpenIDConnectProviderArn"))?;
    Ok(Some(Xml::Node(
        "GetOpenIDConnectProviderResult",
        vec![
            Xml::Node(
                "ThumbprintList",
                p.thumbprints.iter().map(|t| leaf("member", t)).collect(),
            ),
            leaf("CreateDate", irsa_core::clock::render_utc(p.create_date)),
            Xml::Node(
                "ClientIDList",
                p.client_ids.iter().map(|c| leaf("member", c)).collect(),
            ),
            leaf("Url", &p.url),
        ],
    )))
}

/// `ListOpenIDConnectProviders`.
pub(super) fn list(world: &World) -> Result<Option<Xml>, IamError> {
    Ok(Some(Xml::Node(
        "ListOpenIDConnectProvidersResult",
        vec![Xml::Node(
            "OpenIDConnectProviderList",
            world
                .oidc_providers
                .iter()
                .map(|p| Xml::Node("member", vec![leaf("Arn", &p.arn)]))
                .collect(),
        )],
    )))
}

/// `DeleteOpenIDConnectProvider`.
pub(super) fn delete(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let arn = param(q, "OpenIDConnectProviderArn");
    provider(world, &arn)?;
    world.oidc_providers.retain(|p| p.arn != arn);
    Ok(None)
}

/// `AddClientIDToOpenIDConnectProvider`: a client id already there is no change.
pub(super) fn add_client_id(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let client_id = param(q, "ClientID");
    check_client_id(&client_id)?;
    let p = provider_mut(world, &param(q, "OpenIDConnectProviderArn"))?;
    if !p.client_ids.contains(&client_id) {
        if p.client_ids.len() >= CLIENT_IDS_PER_PROVIDER {
            return Err(client_ids_quota());
        }
        p.client_ids.push(client_id);
    }
    Ok(None)
}

/// `UpdateOpenIDConnectProviderThumbprint`: the list replaces the provider's.
pub(super) fn update_thumbprint(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let thumbprints = thumbprints(q)?;
    let p = provider_mut(world, &param(q, "OpenIDConnectProviderArn"))?;
    p.thumbprints = thumbprints;
    Ok(None)
}

/// `ThumbprintList` omitted: "IAM will retrieve and use the top intermediate certificate
/// authority (CA) thumbprint of the OpenID Connect identity provider server certificate"
/// (IAM API model). The harness knows that certificate only for the issuers it serves with a
/// private CA; for an issuer certified by a public CA (EKS's) AWS would store that CA's
/// thumbprint, which the harness does not have, so the list stays empty there (it is not used
/// for such issuers either way).
pub fn retrieved_thumbprint(issuers: &dyn JwksSource, url: &str) -> Vec<String> {
    match issuers.tls(url) {
        Some(IssuerTls::PrivateCa { thumbprint }) => vec![thumbprint],
        Some(IssuerTls::TrustedCa) | None => Vec::new(),
    }
}

fn provider<'w>(world: &'w World, arn: &str) -> Result<&'w OidcProvider, IamError> {
    world
        .oidc_providers
        .iter()
        .find(|p| p.arn == arn)
        .ok_or_else(|| no_such_provider(arn))
}

fn provider_mut<'w>(world: &'w mut World, arn: &str) -> Result<&'w mut OidcProvider, IamError> {
    world
        .oidc_providers
        .iter_mut()
        .find(|p| p.arn == arn)
        .ok_or_else(|| no_such_provider(arn))
}

fn no_such_provider(arn: &str) -> IamError {
    // [mem]
    IamError::NoSuchEntity(format!("OpenIDConnect provider not found for arn {arn}"))
}

fn client_ids_quota() -> IamError {
    // [mem] IAM's quota wording.
    IamError::LimitExceeded(format!(
        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_PER_PROVIDER}"
    ))
}

fn check_client_id(client_id: &str) -> Result<(), IamError> {
    let len = client_id.chars().count();
    if !(1..=255).contains(&len) {
        return Err(IamError::Validation(vec![format!(
            "Value '{client_id}' at 'clientID' failed to satisfy constraint: Member must have length less than or equal to 255"
        )]));
    }
    Ok(())
}

/// `ThumbprintList`: each 40 hex characters (model: length 40), at most 5. IAM stores them in
/// lower case. [rec] the texts.
fn thumbprints(q: &Query) -> Result<Vec<String>, IamError> {
    let list = q.list("ThumbprintList").unwrap_or_default();
    let errors: Vec<String> = list
        .iter()
        .filter(|t| t.len() != 40)
        .map(|t| format!("Value '{t}' at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]"))
        .collect();
    if !errors.is_empty() {
        return Err(IamError::Validation(errors));
    }
    if let Some(bad) = list
        .iter()
        .find(|t| !t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(IamError::InvalidInput(format!(
            "Thumbprint {bad} is not a valid hex string"
        )));
    }
    if list.len() > THUMBPRINTS_PER_PROVIDER {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {THUMBPRINTS_PER_PROVIDER}"
        )));
    }
    Ok(list.iter().map(|t| t.to_ascii_lowercase()).collect())
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
