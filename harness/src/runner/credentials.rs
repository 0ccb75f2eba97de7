//! How each actor of a step gets credentials: a service account's web identity token
//! (projected, overridden, reused or raw) exchanged at STS, an IAM user's access key, the node
//! role from instance metadata, or none. Credentials are reused by an actor's later steps, as an
//! SDK reuses them.

use std::collections::HashMap;

use anyhow::anyhow;
use scenarios::{Actor, Step, TokenOverrides};

use crate::runner::client::{AwsError, Credentials, WireClient};
use crate::runner::execute::Actors;
use crate::stack::Stack;

/// Credentials each actor got, reused by its later steps as an SDK would reuse them.
#[derive(Default)]
pub(crate) struct Sessions {
    by_actor: HashMap<(Actor, Option<TokenOverrides>), Result<Credentials, AwsError>>,
    /// The token each service account presented last.
    last_token: HashMap<(String, String), String>,
}

/// The token a step's service account presents.
fn token_for(
    stack: &Stack,
    namespace: &str,
    name: &str,
    overrides: Option<&TokenOverrides>,
    last: Option<&String>,
) -> anyhow::Result<String> {
    let Some(overrides) = overrides else {
        return stack.mint_token(namespace, name);
    };
    if let Some(raw) = &overrides.raw {
        return Ok(raw.clone());
    }
    if overrides.reuse {
        return last.cloned().ok_or_else(|| {
            anyhow!("`token: {{reuse: true}}` needs an earlier step of `{namespace}/{name}` that presented a token")
        });
    }
    stack.mint_token_with(namespace, name, overrides)
}

pub(crate) async fn credentials_for(
    stack: &Stack,
    client: &WireClient,
    actors: &Actors,
    step: &Step,
    assume: Option<&serde_json::Value>,
    sessions: &mut Sessions,
) -> anyhow::Result<Option<Result<Credentials, AwsError>>> {
    let key = (step.actor.clone(), step.token.clone());
    if assume.is_none()
        && let Some(found) = sessions.by_actor.get(&key)
    {
        return Ok(Some(found.clone()));
    }
    let answer = match &step.actor {
        Actor::Anonymous => return Ok(None),
        Actor::User { name } => {
            let world = stack.world_store().snapshot();
            let user = world
                .users
                .get(name)
                .ok_or_else(|| anyhow!("`{name}` is not an IAM user of the world"))?;
            let key = user
                .access_keys
                .first()
                .ok_or_else(|| anyhow!("IAM user `{name}` has no access key"))?;
            Ok(Credentials {
                access_key_id: key.id.clone(),
                secret_access_key: key.secret.clone(),
                session_token: None,
                assumed_role_arn: user.arn.clone(),
            })
        }
        Actor::NodeRole => {
            let endpoint = actors.imds.as_deref().ok_or_else(|| {
                anyhow!("the world has no `node_role` served on instance metadata")
            })?;
            Ok(crate::runner::client::imds_credentials(endpoint).await?)
        }
        Actor::ServiceAccount { namespace, name } => {
            let sa = stack
                .world()
                .service_account(namespace, name)
                .ok_or_else(|| {
                    anyhow!("`{namespace}/{name}` is not a service account of the world")
                })?;
            let request = assume.and_then(|r| r.as_object());
            let param = |key: &str| {
                request.and_then(|r| r.get(key)).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            let Some(role) = param("RoleArn").or_else(|| sa.role_arn().map(str::to_owned)) else {
                return Err(anyhow!(
                    "service account `{namespace}/{name}` has no `eks.amazonaws.com/role-arn` annotation and the step names no `RoleArn`"
                ));
            };
            let token = match param("WebIdentityToken") {
                Some(token) => token,
                None => token_for(
                    stack,
                    namespace,
                    name,
                    step.token.as_ref(),
                    sessions.last_token.get(&(namespace.clone(), name.clone())),
                )?,
            };
            sessions
                .last_token
                .insert((namespace.clone(), name.clone()), token.clone());
            let session_name =
                param("RoleSessionName").unwrap_or_else(|| format!("irsa-{namespace}-{name}"));
            let mut form: Vec<(String, String)> = vec![
                ("RoleArn".into(), role),
                ("RoleSessionName".into(), session_name),
                ("WebIdentityToken".into(), token),
            ];
            if let Some(request) = request {
                for (k, v) in request {
                    if matches!(
                        k.as_str(),
                        "RoleArn" | "RoleSessionName" | "WebIdentityToken"
                    ) {
                        continue;
                    }
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    form.push((k.clone(), v));
                }
            }
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            client.assume_role_with_web_identity_form(&form).await?
        }
    };
    sessions.by_actor.insert(key, answer.clone());
    Ok(Some(answer))
}
