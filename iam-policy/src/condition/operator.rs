//! The condition operator vocabulary: every operator AWS documents (string, numeric, date,
//! boolean, binary, IP address, ARN, `Null`), the `...IfExists` suffix and the `ForAllValues:` /
//! `ForAnyValue:` set qualifiers, parsed from and rendered to AWS's spelling.

use std::fmt;

use serde::Serialize;

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SetQualifier {
    /// Every request value must satisfy the operator; true for a missing or empty key.
    ForAllValues,
    /// Some request value must satisfy the operator; false for a missing or empty key.
    ForAnyValue,
}

macro_rules! operators {
    ($($name:ident),* $(,)?) => {
        /// A condition operator without qualifier or `IfExists`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum BaseOperator { $(
            #[doc = concat!("`", stringify!($name), "`")]
            $name,
        )* }

        impl BaseOperator {
            /// Every operator AWS documents.
            pub const ALL: &'static [BaseOperator] = &[$(BaseOperator::$name),*];

            /// The operator's name.
            pub fn name(self) -> &'static str {
                match self { $(BaseOperator::$name => stringify!($name),)* }
            }
        }
    };
}

operators!(
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
);

impl BaseOperator {
    /// Operators that are the negation of another (`StringNotEquals` of `StringEquals`, ...).
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::NumericNotEquals
                | Self::DateNotEquals
                | Self::NotIpAddress
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }

    /// Whether `${...}` in policy values is substituted (string and ARN operators).
    pub(super) fn takes_variables(self) -> bool {
        matches!(
            self,
            Self::StringEquals
                | Self::StringNotEquals
                | Self::StringEqualsIgnoreCase
                | Self::StringNotEqualsIgnoreCase
                | Self::StringLike
                | Self::StringNotLike
                | Self::ArnEquals
                | Self::ArnLike
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }
}

/// A full operator: `[ForAllValues:|ForAnyValue:]Base[IfExists]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The set qualifier, if any.
    pub set: Option<SetQualifier>,
    /// The base operator.
    pub base: BaseOperator,
    /// Whether `IfExists` is appended.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name; `None` for one AWS does not document (including `NullIfExists`).
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        let (set, rest) = if let Some(rest) = lower.strip_prefix("forallvalues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = lower.strip_prefix("foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, lower.as_str())
        };
        let find = |name: &str| {
            BaseOperator::ALL
                .iter()
                .copied()
                .find(|op| op.name().eq_ignore_ascii_case(name))
        };
        let (base, if_exists) = match find(rest) {
            Some(base) => (base, false),
            None => (find(rest.strip_suffix("ifexists")?)?, true),
        };
        if base == BaseOperator::Null && if_exists {
            return None;
        }
        Some(Self {
            set,
            base,
            if_exists,
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.set {
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

impl Serialize for Operator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
