//! Where a JSON pointer lands in a YAML text: the line a problem is reported at.
//!
//! The text is read a second time into a tree that keeps every node's position
//! (`serde_saphyr::Spanned`); a pointer is then followed through that tree. Pure.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A YAML node with the positions of its children.
enum Node {
    Scalar,
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(String, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

macro_rules! scalar {
    ($($name:ident: $t:ty),*) => {
        $(fn $name<E: de::Error>(self, _: $t) -> Result<Node, E> {
            Ok(Node::Scalar)
        })*
    };
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML node")
    }

    scalar!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str,
            visit_i128: i128, visit_u128: u128);

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key.0, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key of any scalar type, as text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".into()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

/// The 1-based line of the node `pointer` (a JSON pointer, `/steps/2/expect`) names in `text`.
/// A pointer to something absent (a missing required field) lands on the deepest node that
/// exists on its way, so the reader is sent to the mapping that lacks it. `None` when the text
/// is not YAML.
pub fn line_of(text: &str, pointer: &str) -> Option<u64> {
    let root: Spanned<Node> = crate::from_yaml(text).ok()?;
    let mut node = &root;
    let mut line = node.referenced.line();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match &node.value {
            Node::Map(entries) => entries.iter().find(|(k, _)| *k == token).map(|(_, v)| v),
            Node::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            Node::Scalar => None,
        };
        match next {
            Some(n) => {
                node = n;
                if n.referenced.line() > 0 {
                    line = n.referenced.line();
                }
            }
            None => break,
        }
    }
    (line > 0).then_some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: s\nworld: w.yaml\nsteps:\n  - as: a/b\n    call: dynamodb:GetItem\n    expect: maybe\n  - as: c/d\n    request:\n      TableName: t\n";

    #[test]
    fn finds_the_line_of_nested_nodes() {
        assert_eq!(line_of(TEXT, "/name"), Some(1));
        assert_eq!(line_of(TEXT, "/steps/0/expect"), Some(6));
        assert_eq!(line_of(TEXT, "/steps/1/request/TableName"), Some(9));
    }

    #[test]
    fn a_missing_node_lands_on_its_parent() {
        assert_eq!(line_of(TEXT, "/steps/1/call"), Some(7));
        assert_eq!(line_of(TEXT, "/steps/7"), Some(4));
    }

    #[test]
    fn not_yaml_has_no_line() {
        assert_eq!(line_of("a: [", "/a"), None);
    }
}
