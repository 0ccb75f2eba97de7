//! `irsa curity-sim`: the Curity Identity Server's DynamoDB access pattern (curity-workload.md,
//! from curityio/dynamodb-data-access-provider 11.0), run with the AWS SDK's default credential
//! chain, one line per operation: allowed, denied (with AWS's code and text) or failed for
//! another reason. Run it under `irsa exec` to see which of Curity's operations a policy breaks.
//!
//! Item values are fresh per run (a UUID), so the conditional writes Curity makes
//! (`attribute_not_exists`) hold on a reused backend. Not modelled: Curity's retry and caching
//! behaviour, `Scan` (off by default in Curity), and the tables it touches only for features
//! (devices, dynamic clients, database clients, buckets).

use std::collections::HashMap;
use std::fmt::Write as _;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, Select, TransactWriteItem, Update};

/// One of Curity's calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `startup`, `account create`, `login`, `listing`, `account update`, `account delete`.
    pub phase: &'static str,
    pub operation: &'static str,
    /// Table, `table/index/name`, or the tables of a transaction.
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    /// Refused by IAM (`AccessDeniedException`).
    Denied {
        message: String,
    },
    /// Refused for another reason (missing table, condition, no credentials…).
    Failed {
        code: String,
        message: String,
    },
}

fn outcome<T, E, R>(result: Result<T, SdkError<E, R>>) -> Outcome
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Outcome::Allowed,
        Err(e) => {
            let code = e.code().map(str::to_owned);
            let message = e
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| DisplayErrorContext(&e).to_string());
            match code.as_deref() {
                Some("AccessDeniedException") => Outcome::Denied { message },
                Some(code) => Outcome::Failed {
                    code: code.to_owned(),
                    message,
                },
                None => Outcome::Failed {
                    code: "no answer".to_owned(),
                    message,
                },
            }
        }
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn item(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Run the access pattern against the tables named with `prefix` (Curity's table prefix
/// setting; empty by default).
pub async fn run(client: &Client, prefix: &str) -> Vec<(Step, Outcome)> {
    let mut run = Pattern::new(client, prefix);
    run.startup().await;
    run.account_create().await;
    run.login().await;
    run.listing().await;
    run.account_update().await;
    run.logout().await;
    run.account_delete().await;
    run.results
}

/// One run of the access pattern: its tables, this run's fresh names, and what each call got.
struct Pattern<'a> {
    client: &'a Client,
    accounts: String,
    sessions: String,
    nonces: String,
    tokens: String,
    delegations: String,
    run_id: String,
    user: String,
    account_id: String,
    email: String,
    results: Vec<(Step, Outcome)>,
}

impl<'a> Pattern<'a> {
    fn new(client: &'a Client, prefix: &str) -> Self {
        let t = |name: &str| format!("{prefix}{name}");
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let user = format!("sim-{}", &run_id[..12]);
        Self {
            client,
            accounts: t("curity-accounts"),
            sessions: t("curity-sessions"),
            nonces: t("curity-nonces"),
            tokens: t("curity-tokens"),
            delegations: t("curity-delegations"),
            account_id: format!("ai#{run_id}"),
            email: format!("{user}@example.com"),
            user,
            run_id,
            results: Vec::new(),
        }
    }

    fn record(&mut self, phase: &'static str, operation: &'static str, target: &str, o: Outcome) {
        self.results.push((
            Step {
                phase,
                operation,
                target: target.to_owned(),
            },
            o,
        ));
    }

    /// The account item and its two lookup items (`un#`, `em#`), as an account create writes them.
    fn account_items(&self) -> [(String, Vec<(&'static str, AttributeValue)>); 3] {
        let (user, email) = (&self.user, &self.email);
        [
            (
                self.account_id.clone(),
                vec![("userName", s(user)), ("email", s(email))],
            ),
            (
                format!("un#{user}"),
                vec![
                    ("accountId", s(&self.account_id)),
                    ("userNameInitial", s(&user[..1])),
                    ("userName", s(user)),
                    ("password", s("$argon2id$sim")),
                ],
            ),
            (
                format!("em#{email}"),
                vec![
                    ("accountId", s(&self.account_id)),
                    ("emailInitial", s(&email[..1])),
                    ("email", s(email)),
                ],
            ),
        ]
    }

    /// Startup: check the username index exists.
    async fn startup(&mut self) {
        let o = outcome(
            self.client
                .describe_table()
                .table_name(&self.accounts)
                .send()
                .await,
        );
        let accounts = self.accounts.clone();
        self.record("startup", "DescribeTable", &accounts, o);
    }

    /// Account create: the account and its lookup items, all or nothing.
    async fn account_create(&mut self) {
        let mut create = self.client.transact_write_items();
        for (pk, attrs) in &self.account_items() {
            let mut values = vec![("pk", s(pk)), ("version", n(1))];
            values.extend(attrs.iter().cloned());
            if let Ok(put) = Put::builder()
                .table_name(&self.accounts)
                .set_item(Some(item(&values)))
                .condition_expression("attribute_not_exists(pk)")
                .build()
            {
                create = create.transact_items(TransactWriteItem::builder().put(put).build());
            }
        }
        let o = outcome(create.send().await);
        let accounts = self.accounts.clone();
        self.record("account create", "TransactWriteItems", &accounts, o);
    }

    /// Login: the password lookup, then nonces, sessions, tokens, delegations.
    async fn login(&mut self) {
        let o = outcome(
            self.client
                .get_item()
                .table_name(&self.accounts)
                .key("pk", s(&format!("un#{}", self.user)))
                .consistent_read(true)
                .projection_expression("accountId, password")
                .send()
                .await,
        );
        let accounts = self.accounts.clone();
        self.record("login", "GetItem", &accounts, o);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        let deletable_at = now + 3600;
        for (table, key) in [
            (self.nonces.clone(), "nonce"),
            (self.sessions.clone(), "id"),
            (self.tokens.clone(), "tokenHash"),
            (self.delegations.clone(), "id"),
        ] {
            let value = format!("{key}-{}", self.run_id);
            let mut values = vec![(key, s(&value)), ("deletableAt", n(deletable_at))];
            if table == self.delegations {
                values.push(("owner", s(&self.user)));
                values.push(("status", s("issued")));
            }
            let o = outcome(
                self.client
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(item(&values)))
                    .condition_expression(format!("attribute_not_exists({key})"))
                    .send()
                    .await,
            );
            self.record("login", "PutItem", &table, o);
            let o = outcome(
                self.client
                    .get_item()
                    .table_name(&table)
                    .key(key, s(&value))
                    .consistent_read(true)
                    .send()
                    .await,
            );
            self.record("login", "GetItem", &table, o);
            if table == self.nonces {
                // A nonce is consumed once.
                let o = outcome(
                    self.client
                        .update_item()
                        .table_name(&table)
                        .key(key, s(&value))
                        .update_expression("SET #s = :used")
                        .condition_expression("attribute_exists(nonce)")
                        .expression_attribute_names("#s", "status")
                        .expression_attribute_values(":used", s("used"))
                        .send()
                        .await,
                );
                self.record("login", "UpdateItem", &table, o);
            }
        }
    }

    /// Listing and search on the indexes, and a delegation's revocation.
    async fn listing(&mut self) {
        let (accounts, delegations) = (self.accounts.clone(), self.delegations.clone());
        let (user, email) = (self.user.clone(), self.email.clone());
        let index = format!("{accounts}/index/userNameInitial-userName-index");
        let o = outcome(
            self.client
                .query()
                .table_name(&accounts)
                .index_name("userNameInitial-userName-index")
                .key_condition_expression("userNameInitial = :i AND begins_with(userName, :p)")
                .expression_attribute_values(":i", s(&user[..1]))
                .expression_attribute_values(":p", s(&user))
                .send()
                .await,
        );
        self.record("listing", "Query", &index, o);
        let index = format!("{accounts}/index/emailInitial-email-index");
        let o = outcome(
            self.client
                .query()
                .table_name(&accounts)
                .index_name("emailInitial-email-index")
                .key_condition_expression("emailInitial = :i AND begins_with(email, :p)")
                .expression_attribute_values(":i", s(&email[..1]))
                .expression_attribute_values(":p", s(&user))
                .select(Select::Count)
                .send()
                .await,
        );
        self.record("listing", "Query (COUNT)", &index, o);
        let index = format!("{delegations}/index/owner-status-index");
        let o = outcome(
            self.client
                .query()
                .table_name(&delegations)
                .index_name("owner-status-index")
                .key_condition_expression("#o = :o")
                .expression_attribute_names("#o", "owner")
                .expression_attribute_values(":o", s(&user))
                .send()
                .await,
        );
        self.record("listing", "Query", &index, o);
        let revoke = Update::builder()
            .table_name(&delegations)
            .key("id", s(&format!("id-{}", self.run_id)))
            .update_expression("SET #s = :r")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":r", s("revoked"))
            .build();
        let o = match revoke {
            Ok(update) => outcome(
                self.client
                    .transact_write_items()
                    .transact_items(TransactWriteItem::builder().update(update).build())
                    .send()
                    .await,
            ),
            Err(e) => Outcome::Failed {
                code: "request".into(),
                message: e.to_string(),
            },
        };
        self.record("listing", "TransactWriteItems (revoke)", &delegations, o);
    }

    /// Account update: a new version of the account item, conditioned on the old one.
    async fn account_update(&mut self) {
        let update = Put::builder()
            .table_name(&self.accounts)
            .set_item(Some(item(&[
                ("pk", s(&self.account_id)),
                ("version", n(2)),
                ("userName", s(&self.user)),
                ("email", s(&self.email)),
            ])))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(1))
            .build();
        let o = match update {
            Ok(put) => outcome(
                self.client
                    .transact_write_items()
                    .transact_items(TransactWriteItem::builder().put(put).build())
                    .send()
                    .await,
            ),
            Err(e) => Outcome::Failed {
                code: "request".into(),
                message: e.to_string(),
            },
        };
        let accounts = self.accounts.clone();
        self.record("account update", "TransactWriteItems", &accounts, o);
    }

    /// Logout: the session goes.
    async fn logout(&mut self) {
        let o = outcome(
            self.client
                .delete_item()
                .table_name(&self.sessions)
                .key("id", s(&format!("id-{}", self.run_id)))
                .send()
                .await,
        );
        let sessions = self.sessions.clone();
        self.record("logout", "DeleteItem", &sessions, o);
    }

    /// Account delete: the account and its lookup items together.
    async fn account_delete(&mut self) {
        let mut delete = self.client.transact_write_items();
        for (pk, _) in &self.account_items() {
            if let Ok(d) = Delete::builder()
                .table_name(&self.accounts)
                .key("pk", s(pk))
                .build()
            {
                delete = delete.transact_items(TransactWriteItem::builder().delete(d).build());
            }
        }
        let o = outcome(delete.send().await);
        let accounts = self.accounts.clone();
        self.record("account delete", "TransactWriteItems", &accounts, o);
    }
}

/// One line per operation; a refusal's text under it.
pub fn render(results: &[(Step, Outcome)]) -> String {
    let mut out = format!(
        "{:<15} {:<28} {:<52} {}\n",
        "PHASE", "OPERATION", "TABLE", "RESULT"
    );
    for (step, o) in results {
        let (result, detail) = match o {
            Outcome::Allowed => ("allowed".to_owned(), None),
            Outcome::Denied { message } => {
                ("DENIED AccessDeniedException".to_owned(), Some(message))
            }
            Outcome::Failed { code, message } => (format!("failed {code}"), Some(message)),
        };
        let _ = writeln!(
            out,
            "{:<15} {:<28} {:<52} {result}",
            step.phase, step.operation, step.target
        );
        if let Some(detail) = detail {
            let _ = writeln!(out, "    {detail}");
        }
    }
    let denied = results
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Denied { .. }))
        .count();
    let failed = results
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed { .. }))
        .count();
    let _ = writeln!(
        out,
        "{} operations: {} allowed, {denied} denied by IAM, {failed} failed otherwise",
        results.len(),
        results.len() - denied - failed
    );
    out
}

/// 0 when every operation was allowed, 1 when one was not (denied by IAM or failed).
pub fn exit_code(results: &[(Step, Outcome)]) -> u8 {
    u8::from(results.iter().any(|(_, o)| *o != Outcome::Allowed))
}

/// `irsa curity-sim`'s arguments.
#[derive(Debug, clap::Args)]
pub struct CuritySimArgs {
    /// Curity's table prefix setting (`prod-` for `prod-curity-accounts`).
    #[arg(long, default_value = "")]
    pub table_prefix: String,
}

/// Run with the default credential chain of this process's environment.
pub async fn main(args: &CuritySimArgs) -> u8 {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = Client::new(&config);
    let results = run(&client, &args.table_prefix).await;
    print!("{}", render(&results));
    exit_code(&results)
}
