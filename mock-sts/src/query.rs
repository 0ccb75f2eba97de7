//! The Query protocol's request form (`Action=…&Version=…&Name.member.1=…`), parsed once into
//! ordered pairs; lists are read by their `member.N` index. Pure; fuzzed in `mock-sts/fuzz`.

/// A parsed form body. A body that is not a form parses as empty (and so has no `Action`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(body: &[u8]) -> Self {
        Self {
            pairs: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `<name>.member.N` values, ordered by `N` (1-based; gaps allowed, as the SDKs never send
    /// them). `None` when no member is present, to tell an absent list from an empty one; an
    /// empty list is sent as `<name>=` and reads as `Some([])`.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.members(name, "")
    }

    /// `<name>.member.N.<field>` values (lists of structures such as `PolicyArns`).
    pub fn struct_list(&self, name: &str, field: &str) -> Option<Vec<String>> {
        self.members(name, &format!(".{field}"))
    }

    /// `<name>.member.N<suffix>` values ordered by `N`; `Some([])` for `<name>=`.
    fn members(&self, name: &str, suffix: &str) -> Option<Vec<String>> {
        let prefix = format!("{name}.member.");
        let mut members: Vec<(u32, String)> = self
            .pairs
            .iter()
            .filter_map(|(k, v)| {
                let n = k
                    .strip_prefix(&prefix)?
                    .strip_suffix(suffix)?
                    .parse::<u32>()
                    .ok()?;
                Some((n, v.clone()))
            })
            .collect();
        if members.is_empty() {
            return self.get(name).map(|_| Vec::new());
        }
        members.sort_by_key(|(n, _)| *n);
        Some(members.into_iter().map(|(_, v)| v).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scalars_and_member_lists_in_index_order() {
        let q = Query::parse(
            b"Action=CreateOpenIDConnectProvider&Url=https%3A%2F%2Fx&ClientIDList.member.2=b&ClientIDList.member.1=a&ThumbprintList.member.1=9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
        );
        assert_eq!(q.get("Action"), Some("CreateOpenIDConnectProvider"));
        assert_eq!(q.get("Url"), Some("https://x"));
        assert_eq!(q.list("ClientIDList"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(q.list("ThumbprintList").map(|l| l.len()), Some(1));
        assert_eq!(q.list("Tags"), None);
    }

    #[test]
    fn an_empty_list_is_sent_bare() {
        let q = Query::parse(b"Action=X&ClientIDList=");
        assert_eq!(q.list("ClientIDList"), Some(vec![]));
    }

    #[test]
    fn structure_lists_read_one_field() {
        let q = Query::parse(
            b"PolicyArns.member.2.arn=arn2&PolicyArns.member.1.arn=arn1&PolicyArns.member.10.arn=arn10",
        );
        assert_eq!(
            q.struct_list("PolicyArns", "arn"),
            Some(vec!["arn1".into(), "arn2".into(), "arn10".into()])
        );
    }

    #[test]
    fn garbage_is_an_empty_form() {
        assert_eq!(Query::parse(&[0xff, 0xfe, b'=', b'%']).get("Action"), None);
    }
}
