//! The world's tables, created in the backend when a stack starts. A backend shared by several
//! stacks keeps a table of the same shape; one of another shape is refused.

use anyhow::{Context as _, anyhow, bail};
use irsa_core::World;

/// Create every table of `world` in the backend (a table of the same shape already there is kept).
pub(crate) async fn create_tables(
    upstream: &gateway::forward::Upstream,
    world: &World,
    resource_policies: &gateway::resource_policy::ResourcePolicies,
    now_secs: i64,
) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::from_unix_timestamp(now_secs)?;
    for table in &world.tables {
        let name = table
            .get("TableName")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        // `ResourcePolicy` (a CreateTable member) is kept by the gateway, not DynamoDB Local.
        let mut request = table.clone();
        if let Some(policy) = request
            .as_object_mut()
            .and_then(|r| r.remove("ResourcePolicy"))
        {
            let arn = format!(
                "{}table/{name}",
                gateway::backend_arn::world_prefix(&world.region, &world.account)
            );
            let text = match &policy {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            resource_policies
                .put(&arn, &text, None, now_secs.saturating_mul(1000))
                .map_err(|e| anyhow!("the ResourcePolicy of table `{name}`: {e:?}"))?;
        }
        let body = bytes::Bytes::from(request.to_string());
        let answer = upstream
            .send(
                "DynamoDB_20120810.CreateTable",
                "application/x-amz-json-1.0",
                body,
                &world.region,
                now,
            )
            .await
            .with_context(|| format!("creating table `{name}`"))?;
        if !answer.status.is_success() {
            let text = String::from_utf8_lossy(&answer.body);
            if text.contains("ResourceInUseException") {
                let described = upstream
                    .send(
                        "DynamoDB_20120810.DescribeTable",
                        "application/x-amz-json-1.0",
                        bytes::Bytes::from(serde_json::json!({ "TableName": name }).to_string()),
                        &world.region,
                        now,
                    )
                    .await
                    .with_context(|| format!("describing existing table `{name}`"))?;
                let described: serde_json::Value =
                    serde_json::from_slice(&described.body).unwrap_or_default();
                if let Err(difference) = same_shape(table, &described["Table"]) {
                    bail!(
                        "table `{name}` already exists in the DynamoDB backend with another shape: {difference}. \
                         Every world on one backend shares its tables (DynamoDB Local runs with -sharedDb): \
                         give this world's `{name}` the same key schema and indexes, or another name"
                    );
                }
                tracing::info!(table = name, "table already exists with this shape; kept");
                continue;
            }
            bail!("DynamoDB refused to create table `{name}`: {text}");
        }
    }
    Ok(())
}

/// Whether an existing table (`DescribeTable`'s `Table`) has the key schema and index names a
/// `CreateTable` request asks for; `Err` says what differs.
fn same_shape(requested: &serde_json::Value, existing: &serde_json::Value) -> Result<(), String> {
    fn keys(v: &serde_json::Value) -> Vec<String> {
        v["KeySchema"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| {
                format!(
                    "{} {}",
                    k["AttributeName"].as_str().unwrap_or("?"),
                    k["KeyType"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }
    fn indexes(v: &serde_json::Value, member: &str) -> Vec<String> {
        let mut names: Vec<String> = v[member]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                format!(
                    "{} ({})",
                    i["IndexName"].as_str().unwrap_or("?"),
                    keys(i).join(", ")
                )
            })
            .collect();
        names.sort();
        names
    }
    if keys(requested) != keys(existing) {
        return Err(format!(
            "key schema [{}] there, [{}] in this world",
            keys(existing).join(", "),
            keys(requested).join(", ")
        ));
    }
    for member in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        let (want, have) = (indexes(requested, member), indexes(existing, member));
        if want != have {
            return Err(format!(
                "{member} [{}] there, [{}] in this world",
                have.join("; "),
                want.join("; ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod shape_tests {
    use super::same_shape;
    use serde_json::json;

    #[test]
    fn tables_of_the_same_shape_are_shared_and_others_are_refused() {
        let requested = json!({
            "TableName": "t",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [{"IndexName": "g", "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]
        });
        let mut existing = requested.clone();
        existing["TableStatus"] = json!("ACTIVE");
        existing["GlobalSecondaryIndexes"][0]["IndexStatus"] = json!("ACTIVE");
        assert_eq!(same_shape(&requested, &existing), Ok(()));

        let mut no_index = existing.clone();
        no_index
            .as_object_mut()
            .unwrap()
            .remove("GlobalSecondaryIndexes");
        let err = same_shape(&requested, &no_index).unwrap_err();
        assert!(
            err.contains("GlobalSecondaryIndexes [] there, [g (a HASH)] in this world"),
            "{err}"
        );

        let mut other_key = existing.clone();
        other_key["KeySchema"] = json!([{"AttributeName": "id", "KeyType": "HASH"}]);
        assert!(
            same_shape(&requested, &other_key)
                .unwrap_err()
                .contains("key schema [id HASH] there")
        );
    }
}
