//! The results of a run and their renderings: the full table, JUnit XML and JSON. Pure: the
//! caller decides where each goes.

use std::fmt::Write as _;

use scenarios::Expect;

use crate::stack::audit::StatementId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied { code: String, message: String },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Allowed => f.write_str("allow"),
            Outcome::Denied { code, .. } => write!(f, "deny {code}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StepResult {
    pub scenario: String,
    pub step: String,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub expected: Expect,
    pub got: Outcome,
    pub passed: bool,
    /// The policy engine's explanation, from the call's audit record.
    pub explanation: Option<String>,
    /// The statements the decision rested on, from the same record.
    pub decisive: Vec<StatementId>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub results: Vec<StepResult>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.passed)
    }

    pub fn failures(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }

    /// The allow/deny table, with the message under each failed row.
    pub fn render_table(&self) -> String {
        let headers = [
            "scenario",
            "step",
            "principal",
            "action",
            "resource",
            "expected",
            "got",
            "",
        ];
        let rows: Vec<[String; 8]> = self
            .results
            .iter()
            .map(|r| {
                [
                    r.scenario.clone(),
                    r.step.clone(),
                    r.principal.clone(),
                    r.action.clone(),
                    r.resource.clone(),
                    r.expected.to_string(),
                    r.got.to_string(),
                    if r.passed { "✓".into() } else { "✗".into() },
                ]
            })
            .collect();
        let mut widths = headers.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let mut out = String::new();
            for (cell, w) in cells.iter().zip(widths.iter()) {
                let pad = w.saturating_sub(cell.chars().count());
                let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = line(&headers.map(str::to_owned));
        out.push_str(&line(&widths.map(|w| "-".repeat(w))));
        for (row, result) in rows.iter().zip(&self.results) {
            out.push_str(&line(row));
            if !result.passed {
                if let Outcome::Denied { message, .. } = &result.got {
                    let _ = writeln!(out, "    ↳ {message}");
                }
                if let Expect::Deny {
                    decisive: Some(want),
                    ..
                } = &result.expected
                {
                    let _ = writeln!(
                        out,
                        "    ↳ expected the decision to rest on statement `{}` of policy `{}`",
                        want.statement, want.policy
                    );
                }
                if let Some(explanation) = &result.explanation {
                    for line in explanation.lines() {
                        let _ = writeln!(out, "      {line}");
                    }
                }
            }
        }
        let total = self.results.len();
        let failed = self.failures();
        let _ = writeln!(out, "\n{} passed, {failed} failed", total - failed);
        out
    }
}

impl Report {
    /// JUnit XML: one test suite per scenario, one test case per step; a failed expectation is
    /// a `<failure>` whose text is what the call answered.
    pub fn render_junit(&self) -> String {
        let mut suites: Vec<(&str, Vec<&StepResult>)> = Vec::new();
        for r in &self.results {
            match suites.iter_mut().find(|(name, _)| *name == r.scenario) {
                Some((_, steps)) => steps.push(r),
                None => suites.push((&r.scenario, vec![r])),
            }
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"irsa run\" tests=\"{}\" failures=\"{}\">",
            self.results.len(),
            self.failures()
        );
        for (name, steps) in suites {
            let failures = steps.iter().filter(|r| !r.passed).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
                xml_attr(name),
                steps.len()
            );
            for r in steps {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\"",
                    xml_attr(&r.scenario),
                    xml_attr(&format!(
                        "{} ({} {} on {})",
                        r.step, r.principal, r.action, r.resource
                    ))
                );
                if r.passed {
                    out.push_str("/>\n");
                } else {
                    let detail = match &r.got {
                        Outcome::Allowed => "the call was allowed".to_owned(),
                        Outcome::Denied { code, message } => format!("{code}: {message}"),
                    };
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"expected {}, got {}\">{}</failure>\n    </testcase>",
                        xml_attr(&r.expected.to_string()),
                        xml_attr(&r.got.to_string()),
                        xml_attr(&detail)
                    );
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// The results as JSON, one object per step.
    pub fn render_json(&self) -> serde_json::Value {
        let steps: Vec<serde_json::Value> = self
            .results
            .iter()
            .map(|r| {
                let (code, message) = match &r.got {
                    Outcome::Allowed => (None, None),
                    Outcome::Denied { code, message } => {
                        (Some(code.as_str()), Some(message.as_str()))
                    }
                };
                serde_json::json!({
                    "scenario": r.scenario,
                    "step": r.step,
                    "principal": r.principal,
                    "action": r.action,
                    "resource": r.resource,
                    "expected": r.expected.to_string(),
                    "got": r.got.to_string(),
                    "error_code": code,
                    "error_message": message,
                    "decisive": r.decisive.iter().map(|d| serde_json::json!({
                        "policy": d.policy,
                        "statement": d.statement,
                    })).collect::<Vec<_>>(),
                    "passed": r.passed,
                })
            })
            .collect();
        serde_json::json!({
            "passed": self.results.len() - self.failures(),
            "failed": self.failures(),
            "steps": steps,
        })
    }
}

/// How the result is printed on stdout (`irsa run --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Every column of every step; the message and explanation under each failure.
    Table,
    /// One line per step under its scenario, details only for failures (and with `verbose`).
    Compact,
    /// [`Report::render_json`].
    Json,
}

impl Format {
    pub const NAMES: [&'static str; 3] = ["table", "compact", "json"];

    pub fn named(name: &str) -> Option<Format> {
        match name {
            "table" => Some(Format::Table),
            "compact" => Some(Format::Compact),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Where the compact rendering goes: how wide a line may be, and whether to colour the marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Characters per line; longer lines end in `…`.
    pub width: usize,
    /// ANSI colours on ✓ and ✗ (only for a terminal, and not under `NO_COLOR`).
    pub color: bool,
}

impl Report {
    /// One line per step with ✓ or ✗, grouped under its scenario. A failed step (every step,
    /// with `verbose`) shows, indented below it, the resource, the statements the decision rested
    /// on, and the answer's message.
    pub fn render_compact(&self, terminal: Terminal, verbose: bool) -> String {
        let fit = |line: String| -> String {
            if line.chars().count() <= terminal.width {
                return line;
            }
            let kept: String = line
                .chars()
                .take(terminal.width.saturating_sub(1))
                .collect();
            kept + "…"
        };
        let paint = |mark: &str, code: &str| -> String {
            if terminal.color {
                format!("\u{1b}[{code}m{mark}\u{1b}[0m")
            } else {
                mark.to_owned()
            }
        };
        let mut out = String::new();
        let mut scenario: Option<&str> = None;
        for r in &self.results {
            if scenario != Some(r.scenario.as_str()) {
                if scenario.is_some() {
                    out.push('\n');
                }
                let _ = writeln!(out, "{}", fit(r.scenario.clone()));
                scenario = Some(&r.scenario);
            }
            let mark = if r.passed {
                paint("✓", "32")
            } else {
                paint("✗", "31")
            };
            let answer = if r.passed {
                r.got.to_string()
            } else {
                format!("expected {}, got {}", r.expected, r.got)
            };
            // The mark is one character wide however it is painted.
            let line = fit(format!(
                "  ✓ {}  {}  {}  {answer}",
                r.step, r.principal, r.action
            ));
            let _ = writeln!(
                out,
                "  {mark}{}",
                line.get("  ✓".len()..).unwrap_or_default()
            );
            if r.passed && !verbose {
                continue;
            }
            let _ = writeln!(out, "{}", fit(format!("      on {}", r.resource)));
            for decisive in &r.decisive {
                let _ = writeln!(out, "{}", fit(format!("      decided by {decisive}")));
            }
            if let Expect::Deny {
                decisive: Some(want),
                ..
            } = &r.expected
                && !r.passed
            {
                let _ = writeln!(
                    out,
                    "{}",
                    fit(format!(
                        "      expected the decision to rest on statement `{}` of policy `{}`",
                        want.statement, want.policy
                    ))
                );
            }
            if let Outcome::Denied { message, .. } = &r.got {
                let _ = writeln!(out, "{}", fit(format!("      {message}")));
            }
        }
        let failed = self.failures();
        let _ = writeln!(
            out,
            "\n{} passed, {failed} failed",
            self.results.len() - failed
        );
        out
    }
}

fn xml_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::execute::matches_expectation;

    fn report() -> Report {
        let step = |name: &str, expected: Expect, got: Outcome| StepResult {
            scenario: "curity <spine>".into(),
            step: name.into(),
            principal: "curity/dynamo-sa".into(),
            action: "dynamodb:GetItem".into(),
            resource: "other-table".into(),
            passed: matches_expectation(&expected, &got),
            expected,
            got,
            explanation: None,
            decisive: Vec::new(),
        };
        Report {
            results: vec![
                step("read", Expect::Allow, Outcome::Allowed),
                step(
                    "read \"other\"",
                    Expect::Allow,
                    Outcome::Denied {
                        code: "AccessDeniedException".into(),
                        message: "User: a & b".into(),
                    },
                ),
            ],
        }
    }

    #[test]
    fn junit_has_one_case_per_step_and_a_failure_with_the_answer() {
        let xml = report().render_junit();
        assert!(
            xml.contains("<testsuites name=\"irsa run\" tests=\"2\" failures=\"1\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite name=\"curity &lt;spine&gt;\" tests=\"2\" failures=\"1\">"),
            "{xml}"
        );
        assert_eq!(xml.matches("<testcase ").count(), 2);
        assert!(
            xml.contains(
                "name=\"read &quot;other&quot; (curity/dynamo-sa dynamodb:GetItem on other-table)\""
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"expected allow, got deny AccessDeniedException\">AccessDeniedException: User: a &amp; b</failure>"),
            "{xml}"
        );
    }

    #[test]
    fn json_counts_and_carries_the_error() {
        let json = report().render_json();
        assert_eq!(json["passed"], 1);
        assert_eq!(json["failed"], 1);
        assert_eq!(json["steps"][1]["error_code"], "AccessDeniedException");
        assert_eq!(json["steps"][0]["error_code"], serde_json::Value::Null);
        assert_eq!(json["steps"][1]["passed"], false);
    }

    #[test]
    fn compact_output_fits_the_terminal_and_details_only_failures() {
        let mut report = report();
        report.results[1].decisive = vec![StatementId {
            policy: "dynamo-iam-policy".into(),
            statement: "TablesWithPrefix".into(),
        }];
        let plain = Terminal {
            width: 60,
            color: false,
        };
        let text = report.render_compact(plain, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "curity <spine>");
        assert!(lines[1].starts_with("  ✓ read  curity/dynamo-sa"), "{text}");
        assert!(lines[2].starts_with("  ✗ read \"other\""), "{text}");
        assert!(lines[2].ends_with('…'), "{text}");
        assert_eq!(lines[3], "      on other-table");
        assert_eq!(
            lines[4],
            "      decided by statement `TablesWithPrefix` of policy `dy…"
        );
        assert!(text.ends_with("1 passed, 1 failed\n"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
        assert!(!text.contains('\u{1b}'));
        // The passing step is detailed too with `verbose`.
        let verbose = report.render_compact(plain, true);
        assert_eq!(
            verbose.matches("      on other-table").count(),
            2,
            "{verbose}"
        );
        let colored = report.render_compact(
            Terminal {
                width: 200,
                color: true,
            },
            false,
        );
        assert!(colored.contains("\u{1b}[32m✓\u{1b}[0m read"), "{colored}");
        assert!(colored.contains("\u{1b}[31m✗\u{1b}[0m read"), "{colored}");
    }
}
