//! The evaluator of QTI 3 item response processing: a pure function of an
//! item's scoring data and a candidate's responses (no I/O), with QTI's
//! value semantics — NULL propagates, an empty container and an empty
//! string are NULL, `multiple` is a multiset, `ordered` a sequence, a
//! `pair` is unordered and a `directedPair` ordered, integers stay
//! integers until a float joins them.
//!
//! It lives in exam-protocol, next to the data it runs, so the hub calls
//! it and its tests need neither the hub's database nor the importer.

use super::rules::{Area, Expr, ItemSelection, LookupTable, NumberOf, OutcomeDeclaration, RoundingMode, Rule, Shape, ToleranceMode};
use super::{Cardinality, ItemScoring, Processing, ResponseDeclaration, TestScoring};
use std::collections::BTreeMap;

/// A single value of a QTI base type.
#[derive(Debug, Clone, PartialEq)]
pub enum Base {
    /// `identifier`.
    Identifier(String),
    /// `string` (and `uri`).
    Str(String),
    /// `integer`.
    Int(i64),
    /// `float` (and `duration`, in seconds).
    Float(f64),
    /// `boolean`.
    Bool(bool),
    /// `pair`: unordered.
    Pair(String, String),
    /// `directedPair`: ordered.
    DirectedPair(String, String),
    /// `point`.
    Point(f64, f64),
}

impl Base {
    /// Parses `text` as `base_type`; `None` when it is not such a value.
    pub fn parse(base_type: Option<&str>, text: &str) -> Option<Base> {
        let t = text.trim();
        let two = || {
            let mut it = t.split_whitespace();
            let pair = (it.next()?.to_string(), it.next()?.to_string());
            it.next().is_none().then_some(pair)
        };
        Some(match base_type.unwrap_or("string") {
            "identifier" => Base::Identifier(t.to_string()),
            "integer" => Base::Int(plain_number(t, true)?.parse().ok()?),
            "float" | "duration" => Base::Float(parse_float(t)?),
            "boolean" => Base::Bool(match t {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return None,
            }),
            "pair" => {
                let (a, b) = two()?;
                Base::Pair(a, b)
            }
            "directedPair" => {
                let (a, b) = two()?;
                Base::DirectedPair(a, b)
            }
            "point" => {
                let (a, b) = two()?;
                Base::Point(parse_float(&a)?, parse_float(&b)?)
            }
            // Text as typed, less the spaces around it: "Amsterdam " is
            // the answer "Amsterdam" (a trailing space cost a student the
            // point; spaces inside still count).
            _ => Base::Str(t.to_string()),
        })
    }

    fn number(&self) -> Option<f64> {
        match self {
            Base::Int(i) => Some(*i as f64),
            Base::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Base::Identifier(s) | Base::Str(s) => Some(s),
            _ => None,
        }
    }

    /// QTI equality: identifiers and strings by text, numbers by value,
    /// a pair in either order.
    fn same(&self, other: &Base) -> bool {
        match (self, other) {
            (Base::Pair(a, b), Base::Pair(c, d)) => (a == c && b == d) || (a == d && b == c),
            (Base::DirectedPair(a, b), Base::DirectedPair(c, d)) => a == c && b == d,
            (Base::Point(a, b), Base::Point(c, d)) => a == c && b == d,
            (Base::Bool(a), Base::Bool(b)) => a == b,
            _ => match (self.number(), other.number(), self.text(), other.text()) {
                (Some(a), Some(b), _, _) => a == b,
                (_, _, Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

/// A decimal number; a comma is accepted as the decimal sign ("2,5"), and
/// thousands separators as a Dutch (or English) student types them
/// ([`plain_number`]).
fn parse_float(t: &str) -> Option<f64> {
    let t = t.trim();
    let v = match t {
        "INF" => f64::INFINITY,
        "-INF" => f64::NEG_INFINITY,
        _ if t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+' | 'e' | 'E')) && !t.is_empty() => {
            plain_number(t, false)?.parse().ok()?
        }
        _ => return None,
    };
    Some(v)
}

/// A typed number in Rust's notation: the decimal sign `.`, no thousands
/// separators. With both `.` and `,` the last one is the decimal sign and
/// the other separates thousands ("1.234,5" and "1,234.5" are 1234.5); one
/// kind several times separates thousands ("1.000.000"); one kind once is
/// the decimal sign ("2,5", "1.5"), except in a whole number, where a group
/// of three digits after it is thousands ("1.000" for an integer is 1000).
/// Thousands groups must be whole: "1.23.4" is no number. Before, "1.000"
/// for an integer response and "1.234,5" were no number at all: a Dutch
/// student's right answer scored as unanswered.
fn plain_number(t: &str, integer: bool) -> Option<String> {
    if t.contains(['e', 'E']) {
        return Some(t.replace(',', "."));
    }
    let (dots, commas) = (t.matches('.').count(), t.matches(',').count());
    let grouped = |whole: &str, sep: char| {
        let digits = whole.trim_start_matches(['-', '+']);
        let mut groups = digits.split(sep);
        let first = groups.next().unwrap_or_default();
        (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3)
    };
    if dots == 0 && commas == 0 {
        return Some(t.to_owned());
    }
    if dots == 0 || commas == 0 {
        // One kind of separator.
        let (sep, count) = if dots > 0 { ('.', dots) } else { (',', commas) };
        return if count > 1 {
            grouped(t, sep).then(|| t.replace(sep, ""))
        } else if integer && grouped(t, sep) {
            Some(t.replace(sep, ""))
        } else {
            Some(t.replace(',', "."))
        };
    }
    let last = t.rfind(['.', ',']).and_then(|i| t[i..].chars().next())?;
    let (decimal, thousands) = if last == '.' { ('.', ',') } else { (',', '.') };
    let (whole, fraction) = t.rsplit_once(decimal)?;
    (grouped(whole, thousands) && !fraction.contains(thousands)).then(|| format!("{}.{fraction}", whole.replace(thousands, "")))
}

/// A QTI value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL.
    Null,
    /// Single cardinality.
    Single(Base),
    /// Multiple cardinality: a multiset.
    Multiple(Vec<Base>),
    /// Ordered cardinality: a sequence.
    Ordered(Vec<Base>),
    /// Record cardinality.
    Record(BTreeMap<String, Base>),
}

impl Value {
    /// NULL, an empty container, or an empty string.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Single(Base::Str(s)) => s.is_empty(),
            Value::Multiple(v) | Value::Ordered(v) => v.is_empty(),
            Value::Record(r) => r.is_empty(),
            Value::Single(_) => false,
        }
    }

    /// The number of a single numeric value.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Single(b) => b.number(),
            _ => None,
        }
    }

    /// Values of `cardinality` from their text.
    fn from_texts(cardinality: Cardinality, base_type: Option<&str>, texts: &[String]) -> Value {
        // An empty text is no value (an identifier "" is not a choice).
        let values: Vec<Base> = texts.iter().filter_map(|t| Base::parse(base_type, t)).filter(|b| b.text() != Some("")).collect();
        match cardinality {
            Cardinality::Single => values.into_iter().next().map_or(Value::Null, Value::Single),
            Cardinality::Multiple => Value::Multiple(values),
            Cardinality::Ordered => Value::Ordered(values),
            Cardinality::Record => Value::Null,
        }
    }

    fn members(&self) -> Vec<&Base> {
        match self {
            Value::Single(b) => vec![b],
            Value::Multiple(v) | Value::Ordered(v) => v.iter().collect(),
            Value::Record(r) => r.values().collect(),
            Value::Null => Vec::new(),
        }
    }
}

/// Why the evaluator could not score an item: a person scores it then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unscorable(pub String);

impl std::fmt::Display for Unscorable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail<T>(reason: impl Into<String>) -> Result<T, Unscorable> {
    Err(Unscorable(reason.into()))
}

/// The text values of a response as the kiosk sends it: a bare value is
/// one value; null, "" and [] are none.
pub fn response_texts(response: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value as J;
    match response {
        None | Some(J::Null) => Vec::new(),
        Some(J::String(s)) if s.is_empty() => Vec::new(),
        Some(J::String(s)) => vec![s.clone()],
        Some(J::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                J::String(s) => Some(s.clone()),
                J::Null => None,
                other => Some(other.to_string()),
            })
            .collect(),
        Some(other) => vec![other.to_string()],
    }
}

/// What running an item's response processing gave.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemResult {
    /// SCORE (a NULL SCORE counts as 0).
    pub score: f64,
    /// MAXSCORE when the processing or the declarations give it.
    pub max_score: Option<f64>,
    /// Every outcome variable after processing.
    pub outcomes: BTreeMap<String, Value>,
}

/// The most values one response can have (a multiple or ordered response
/// of the largest real interaction has a few dozen): more go to a person.
pub const MAX_RESPONSE_VALUES: usize = 1_000;

/// Runs `rules` on the candidate's `responses` (response identifier -> the
/// kiosk's JSON value). A response value that is not of the declared base
/// type (e.g. "abc" for an integer) is left out, as an engine that refuses
/// it would. Errors are reasons for a person to score the item.
pub fn evaluate(item: &ItemScoring, rules: &[Rule], responses: &BTreeMap<String, serde_json::Value>) -> Result<ItemResult, Unscorable> {
    let mut env = Env { item, responses: BTreeMap::new(), outcomes: BTreeMap::new(), test: None };
    for decl in &item.responses {
        let texts = response_texts(responses.get(&decl.identifier));
        // No interaction gives this many values; a sent answer that has them
        // is not scored as if it were one (nor made to cost the hub seconds).
        if texts.len() > MAX_RESPONSE_VALUES {
            return fail(format!("het antwoord {} heeft {} waarden, meer dan een vraag kan geven ({MAX_RESPONSE_VALUES})", decl.identifier, texts.len()));
        }
        if let Some(max) = decl.max_values.filter(|max| texts.len() > *max) {
            return fail(format!("het antwoord {} heeft {} waarden; de vraag laat er hoogstens {max} toe", decl.identifier, texts.len()));
        }
        env.responses.insert(decl.identifier.clone(), Value::from_texts(decl.cardinality, decl.base_type.as_deref(), &texts));
    }
    for out in &item.outcomes {
        if out.external_scored.is_some() && out.identifier == "SCORE" {
            return fail(format!("SCORE wordt buiten de verwerking gegeven (external-scored=\"{}\")", out.external_scored.as_deref().unwrap_or("")));
        }
        env.outcomes.insert(out.identifier.clone(), initial(out));
    }
    // SCORE is a float starting at 0 when the item does not declare it.
    env.outcomes.entry("SCORE".to_string()).or_insert(Value::Single(Base::Float(0.0)));
    env.run(rules)?;
    let score = match env.outcomes.get("SCORE") {
        Some(v) if v.is_null() => 0.0,
        Some(v) => v.number().ok_or_else(|| Unscorable("SCORE is geen getal na de verwerking".into()))?,
        None => 0.0,
    };
    if !score.is_finite() {
        return fail("SCORE is geen eindig getal na de verwerking");
    }
    let max_score = env
        .outcomes
        .get("MAXSCORE")
        .and_then(Value::number)
        .or_else(|| item.outcomes.iter().find(|o| o.identifier == "SCORE").and_then(|o| o.normal_maximum))
        .filter(|m| m.is_finite());
    Ok(ItemResult { score, max_score, outcomes: env.outcomes })
}

/// One item as the test's outcome processing sees it.
#[derive(Debug, Clone)]
pub struct TestItem<'a> {
    /// Its scoring data (declarations, correct responses, weights).
    pub scoring: &'a ItemScoring,
    /// The candidate's responses, as the kiosk sent them.
    pub responses: &'a BTreeMap<String, serde_json::Value>,
    /// Its outcomes after response processing (a hand score as SCORE); an
    /// outcome not known yet (an item waiting for a person) is absent.
    pub outcomes: BTreeMap<String, Value>,
}

/// What the test's outcome processing gave.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    /// The test's SCORE, when its processing sets one.
    pub score: Option<f64>,
    /// The maximum of that SCORE: its `normal-maximum`, else a MAXSCORE
    /// (or MAX_SCORE) the processing sets; `None`: not known.
    pub max_score: Option<f64>,
    /// Every test outcome after processing.
    pub outcomes: BTreeMap<String, Value>,
}

/// Runs the test's outcome processing on its items' outcomes (in test
/// order). An error says why the hub could not run it: it reports the sum
/// of the item scores then, and says so.
pub fn evaluate_test(test: &TestScoring, items: &[TestItem<'_>]) -> Result<TestResult, Unscorable> {
    let Some(rules) = &test.rules else {
        return fail(test.manual.clone().unwrap_or_else(|| "de verwerking van de toets is niet gelezen".into()));
    };
    // The test's own outcomes live where an item's would; it has no responses.
    let shell = ItemScoring {
        ref_identifier: String::new(),
        identifier: String::new(),
        weights: BTreeMap::new(),
        responses: Vec::new(),
        outcomes: test.outcomes.clone(),
        processing: Processing::None,
    };
    // An item's outcomes that its processing did not give (an item a person
    // scores has only SCORE, from the hand score) start at their declared
    // values, as in the item itself: a MAXSCORE default counts for it too.
    let filled: Vec<TestItem<'_>> = items
        .iter()
        .map(|i| {
            let mut outcomes = i.outcomes.clone();
            for d in i.scoring.outcomes.iter().filter(|d| d.identifier != "SCORE") {
                outcomes.entry(d.identifier.clone()).or_insert_with(|| initial(d));
            }
            TestItem { scoring: i.scoring, responses: i.responses, outcomes }
        })
        .collect();
    let mut env = Env { item: &shell, responses: BTreeMap::new(), outcomes: BTreeMap::new(), test: Some((&filled, &test.categories)) };
    for out in &test.outcomes {
        env.outcomes.insert(out.identifier.clone(), initial(out));
    }
    env.run(rules)?;
    let number = |name: &str| -> Result<Option<f64>, Unscorable> {
        match env.outcomes.get(name) {
            Some(v) => match v.number().filter(|x| x.is_finite()) {
                Some(x) => Ok(Some(x)),
                None => fail(format!("{name} van de toets is geen eindig getal na de verwerking")),
            },
            None => Ok(None),
        }
    };
    // Only a SCORE the processing sets is the test's score: one it only
    // declares would be its default (0) for everyone.
    let score = if test.sets("SCORE") { number("SCORE")? } else { None };
    // The maximum on the same scale: SCORE's normal-maximum, else what the
    // processing computes as MAXSCORE (or Citolab's MAX_SCORE).
    let declared_max = test.outcomes.iter().find(|o| o.identifier == "SCORE").and_then(|o| o.normal_maximum);
    let max_score = match (score, declared_max) {
        (None, _) => None,
        (Some(_), Some(max)) => Some(max),
        (Some(_), None) => match ["MAXSCORE", "MAX_SCORE"].into_iter().find(|n| test.sets(n)) {
            Some(name) => number(name)?,
            None => None,
        },
    };
    Ok(TestResult { score, max_score, outcomes: env.outcomes })
}

/// Whether every response of the item that has a correct response matches it
/// (and it has at least one).
fn all_correct(item: &TestItem<'_>) -> bool {
    let keyed: Vec<&ResponseDeclaration> = item.scoring.responses.iter().filter(|d| !d.correct.is_empty()).collect();
    !keyed.is_empty()
        && keyed.iter().all(|d| {
            let given = Value::from_texts(d.cardinality, d.base_type.as_deref(), &response_texts(item.responses.get(&d.identifier)));
            let correct = Value::from_texts(d.cardinality, d.base_type.as_deref(), &d.correct);
            !given.is_null() && match_values(&given, &correct).unwrap_or(false)
        })
}

fn responded(item: &TestItem<'_>) -> bool {
    item.scoring.responses.iter().any(|d| !response_texts(item.responses.get(&d.identifier)).iter().all(|t| t.trim().is_empty()))
}

fn of_type(b: &Base, base_type: &str) -> bool {
    matches!(
        (b, base_type),
        (Base::Int(_), "integer")
            | (Base::Float(_), "float" | "duration")
            | (Base::Identifier(_), "identifier")
            | (Base::Str(_), "string" | "uri")
            | (Base::Bool(_), "boolean")
            | (Base::Pair(..), "pair")
            | (Base::DirectedPair(..), "directedPair")
            | (Base::Point(..), "point")
    )
}

fn weighted(b: &Base, weight: Option<f64>) -> Base {
    match (b, weight) {
        (Base::Int(i), Some(w)) => Base::Float(*i as f64 * w),
        (Base::Float(f), Some(w)) => Base::Float(f * w),
        (b, _) => b.clone(),
    }
}

fn initial(out: &OutcomeDeclaration) -> Value {
    if !out.default.is_empty() {
        return Value::from_texts(out.cardinality, out.base_type.as_deref(), &out.default);
    }
    match (out.cardinality, out.base_type.as_deref()) {
        (Cardinality::Single, Some("integer")) => Value::Single(Base::Int(0)),
        (Cardinality::Single, Some("float")) => Value::Single(Base::Float(0.0)),
        _ => Value::Null,
    }
}

enum Flow {
    Go,
    Exit,
}

struct Env<'a> {
    item: &'a ItemScoring,
    responses: BTreeMap<String, Value>,
    outcomes: BTreeMap<String, Value>,
    /// In test outcome processing: the items and their categories.
    test: Option<(&'a [TestItem<'a>], &'a BTreeMap<String, Vec<String>>)>,
}

fn arity(op: &str, args: &[Expr], n: usize) -> Result<(), Unscorable> {
    if args.len() == n {
        Ok(())
    } else {
        fail(format!("{op} heeft {n} operand(en) nodig, niet {}", args.len()))
    }
}

impl<'a> Env<'a> {
    fn run(&mut self, rules: &[Rule]) -> Result<Flow, Unscorable> {
        for rule in rules {
            if let Flow::Exit = self.rule(rule)? {
                return Ok(Flow::Exit);
            }
        }
        Ok(Flow::Go)
    }

    fn rule(&mut self, rule: &Rule) -> Result<Flow, Unscorable> {
        match rule {
            Rule::Condition { branches, otherwise } => {
                for branch in branches {
                    if self.expr(&branch.when)? == Value::Single(Base::Bool(true)) {
                        return self.run(&branch.rules);
                    }
                }
                self.run(otherwise)
            }
            Rule::SetOutcome { identifier, value } => {
                let v = self.expr(value)?;
                self.set(identifier, v)?;
                Ok(Flow::Go)
            }
            Rule::LookupOutcome { identifier, value } => {
                let item = self.item;
                let decl = item
                    .outcomes
                    .iter()
                    .find(|o| &o.identifier == identifier)
                    .ok_or_else(|| Unscorable(format!("outcome {identifier} is niet gedeclareerd")))?;
                let Some(table) = &decl.lookup else { return fail(format!("outcome {identifier} heeft geen opzoektabel")) };
                let source = self.expr(value)?;
                let target = match (table, source.number()) {
                    (_, None) => None,
                    (LookupTable::Match { default, entries }, Some(n)) => {
                        entries.iter().find(|(s, _)| *s as f64 == n).map(|(_, t)| t.clone()).or_else(|| default.clone())
                    }
                    (LookupTable::Interpolation { default, entries }, Some(n)) => entries
                        .iter()
                        .find(|(s, include, _)| n > *s || (*include && n == *s))
                        .map(|(_, _, t)| t.clone())
                        .or_else(|| default.clone()),
                };
                let v = match target {
                    Some(t) => Value::from_texts(decl.cardinality, decl.base_type.as_deref(), &[t]),
                    None => Value::Null,
                };
                self.set(identifier, v)?;
                Ok(Flow::Go)
            }
            Rule::Exit => Ok(Flow::Exit),
            Rule::Fragment { rules } => self.run(rules),
        }
    }

    fn set(&mut self, identifier: &str, value: Value) -> Result<(), Unscorable> {
        let decl = self.item.outcomes.iter().find(|o| o.identifier == identifier);
        if decl.is_none() && !matches!(identifier, "SCORE" | "MAXSCORE") {
            return fail(format!("outcome {identifier} is niet gedeclareerd"));
        }
        let base_type = decl.map_or(Some("float"), |d| d.base_type.as_deref());
        // An integer set on a float outcome becomes a float.
        let value = match (value, base_type) {
            (Value::Single(Base::Int(i)), Some("float")) => Value::Single(Base::Float(i as f64)),
            (v, _) => v,
        };
        self.outcomes.insert(identifier.to_string(), value);
        Ok(())
    }

    /// The items an expression of test outcome processing selects.
    fn selected(&self, op: &str, sel: &ItemSelection) -> Result<Vec<&'a TestItem<'a>>, Unscorable> {
        let Some((items, categories)) = self.test else { return fail(format!("{op} hoort in de verwerking van de toets, niet van een item")) };
        let none = Vec::new();
        Ok(items.iter().filter(|i| sel.selects(categories.get(&i.scoring.ref_identifier).unwrap_or(&none))).collect())
    }

    fn response_decl(&self, identifier: &str) -> Result<&ResponseDeclaration, Unscorable> {
        self.item
            .responses
            .iter()
            .find(|d| d.identifier == identifier)
            .ok_or_else(|| Unscorable(format!("response {identifier} is niet gedeclareerd")))
    }

    fn all(&mut self, args: &[Expr]) -> Result<Vec<Value>, Unscorable> {
        args.iter().map(|a| self.expr(a)).collect()
    }

    fn two(&mut self, op: &str, args: &[Expr]) -> Result<(Value, Value), Unscorable> {
        arity(op, args, 2)?;
        Ok((self.expr(&args[0])?, self.expr(&args[1])?))
    }

    fn one(&mut self, op: &str, args: &[Expr]) -> Result<Value, Unscorable> {
        arity(op, args, 1)?;
        self.expr(&args[0])
    }

    /// Numbers of single operands; `None` when one is NULL.
    fn numbers(&mut self, op: &str, args: &[Expr]) -> Result<Option<Vec<Base>>, Unscorable> {
        let mut out = Vec::new();
        for v in self.all(args)? {
            if v.is_null() {
                return Ok(None);
            }
            match v {
                Value::Single(b @ (Base::Int(_) | Base::Float(_))) => out.push(b),
                _ => return fail(format!("{op} rekent alleen met losse getallen")),
            }
        }
        Ok(Some(out))
    }

    /// Numbers of operands that may be containers (max, min, gcd, lcm).
    fn flat_numbers(&mut self, op: &str, args: &[Expr]) -> Result<Option<Vec<Base>>, Unscorable> {
        let mut out = Vec::new();
        for v in self.all(args)? {
            if v.is_null() {
                return Ok(None);
            }
            for b in v.members() {
                match b {
                    Base::Int(_) | Base::Float(_) => out.push(b.clone()),
                    _ => return fail(format!("{op} rekent alleen met getallen")),
                }
            }
        }
        Ok(Some(out))
    }

    fn compare(&mut self, op: &str, args: &[Expr], f: fn(f64, f64) -> bool) -> Result<Value, Unscorable> {
        arity(op, args, 2)?;
        Ok(match self.numbers(op, args)? {
            Some(n) => boolean(f(n[0].number().unwrap_or(f64::NAN), n[1].number().unwrap_or(f64::NAN))),
            None => Value::Null,
        })
    }

    fn logic(&mut self, op: &str, args: &[Expr]) -> Result<Vec<Option<bool>>, Unscorable> {
        let mut out = Vec::new();
        for v in self.all(args)? {
            out.push(match v {
                Value::Single(Base::Bool(b)) => Some(b),
                v if v.is_null() => None,
                _ => return fail(format!("{op} werkt alleen met waar/onwaar")),
            });
        }
        Ok(out)
    }

    fn texts(&mut self, op: &str, args: &[Expr]) -> Result<Option<(String, String)>, Unscorable> {
        let (a, b) = self.two(op, args)?;
        if a.is_null() || b.is_null() {
            return Ok(None);
        }
        match (a, b) {
            (Value::Single(a), Value::Single(b)) => match (a.text(), b.text()) {
                (Some(a), Some(b)) => Ok(Some((a.to_string(), b.to_string()))),
                _ => fail(format!("{op} vergelijkt alleen tekst")),
            },
            _ => fail(format!("{op} vergelijkt alleen losse tekst")),
        }
    }

    fn container(&mut self, args: &[Expr], ordered: bool) -> Result<Value, Unscorable> {
        let mut out = Vec::new();
        for v in self.all(args)? {
            match v {
                Value::Null => {}
                Value::Single(b) => out.push(b),
                Value::Multiple(v) if !ordered => out.extend(v),
                Value::Ordered(v) if ordered => out.extend(v),
                Value::Multiple(_) | Value::Ordered(_) | Value::Record(_) => {
                    return fail(if ordered { "qti-ordered neemt geen multiple of record" } else { "qti-multiple neemt geen ordered of record" })
                }
            }
        }
        Ok(if ordered { Value::Ordered(out) } else { Value::Multiple(out) })
    }

    fn expr(&mut self, e: &Expr) -> Result<Value, Unscorable> {
        Ok(match e {
            Expr::BaseValue { base_type, value } => match Base::parse(Some(base_type), value) {
                Some(b) => Value::Single(b),
                None => return fail(format!("qti-base-value {value:?} is geen {base_type}")),
            },
            Expr::Variable { identifier } => match (self.responses.get(identifier), self.outcomes.get(identifier)) {
                (Some(v), _) | (None, Some(v)) => v.clone(),
                (None, None) if identifier == "numAttempts" => Value::Single(Base::Int(1)),
                (None, None) => return fail(format!("variabele {identifier} is niet gedeclareerd")),
            },
            Expr::TestVariables { variable, weight, base_type, items } => {
                let mut out = Vec::new();
                for item in self.selected("qti-test-variables", items)? {
                    // Only single values count; an item without the value is left out.
                    let Some(Value::Single(b)) = item.outcomes.get(variable) else { continue };
                    let b = &*b;
                    // By the item's declared type where it declares one (a
                    // hand score is a number, whatever its type); without
                    // `base-type`, numbers only.
                    let declared = item.scoring.outcomes.iter().find(|o| &o.identifier == variable).and_then(|o| o.base_type.as_deref());
                    let fits = match (base_type.as_deref(), declared) {
                        (Some(want), Some(have)) => want == have || (want == "float" && have == "duration"),
                        (Some(want), None) => of_type(b, want),
                        (None, _) => matches!(b, Base::Int(_) | Base::Float(_)),
                    };
                    if !fits {
                        continue;
                    }
                    out.push(weighted(b, weight.as_ref().map(|w| item.scoring.weights.get(w).copied().unwrap_or(1.0))));
                }
                if out.is_empty() {
                    Value::Null
                } else {
                    Value::Multiple(out)
                }
            }
            Expr::OutcomeBound { outcome, maximum, weight, items } => {
                let mut out = Vec::new();
                for item in self.selected(if *maximum { "qti-outcome-maximum" } else { "qti-outcome-minimum" }, items)? {
                    let decl = item.scoring.outcomes.iter().find(|o| &o.identifier == outcome);
                    let Some(bound) = decl.and_then(|d| if *maximum { d.normal_maximum } else { d.normal_minimum }) else { return Ok(Value::Null) };
                    out.push(weighted(&Base::Float(bound), weight.as_ref().map(|w| item.scoring.weights.get(w).copied().unwrap_or(1.0))));
                }
                if out.is_empty() {
                    Value::Null
                } else {
                    Value::Multiple(out)
                }
            }
            Expr::Number { of, items } => {
                let selected = self.selected("qti-number", items)?;
                let n = match of {
                    NumberOf::Selected | NumberOf::Presented => selected.len(),
                    NumberOf::Responded => selected.iter().filter(|i| responded(i)).count(),
                    NumberOf::Correct => selected.iter().filter(|i| all_correct(i)).count(),
                    NumberOf::Incorrect => selected.iter().filter(|i| responded(i) && !all_correct(i)).count(),
                };
                Value::Single(Base::Int(n as i64))
            }
            Expr::Correct { identifier } => {
                let d = self.response_decl(identifier)?;
                Value::from_texts(d.cardinality, d.base_type.as_deref(), &d.correct)
            }
            Expr::Default { identifier } => match self.item.outcomes.iter().find(|o| &o.identifier == identifier) {
                Some(o) if !o.default.is_empty() => Value::from_texts(o.cardinality, o.base_type.as_deref(), &o.default),
                Some(_) => Value::Null,
                None => {
                    self.response_decl(identifier)?;
                    Value::Null
                }
            },
            Expr::MapResponse { identifier } => {
                let d = self.response_decl(identifier)?;
                let Some(m) = &d.mapping else { return fail(format!("response {identifier} heeft geen qti-mapping")) };
                let given = self.responses.get(identifier).cloned().unwrap_or(Value::Null);
                let keys: Vec<Option<Base>> = m.entries.iter().map(|e| Base::parse(d.base_type.as_deref(), &e.key)).collect();
                // Each map entry counts once however many values hit it
                // ("amsterdam" and "Amsterdam" on a case-insensitive entry
                // too: before, each counted, past the item's maximum); each
                // distinct value that hits none counts the default once.
                let mut hit_entries = vec![false; m.entries.len()];
                let mut missed: Vec<&Base> = Vec::new();
                let mut sum = 0.0;
                for v in given.members() {
                    let hit = m.entries.iter().zip(&keys).position(|(e, key)| {
                        let Some(key) = key else { return false };
                        match (e.case_sensitive, key.text(), v.text()) {
                            (false, Some(k), Some(t)) => k.to_lowercase() == t.to_lowercase(),
                            _ => key.same(v),
                        }
                    });
                    match hit {
                        Some(i) if !hit_entries[i] => {
                            hit_entries[i] = true;
                            sum += m.entries[i].value;
                        }
                        Some(_) => {}
                        // At most MAX_RESPONSE_VALUES values: the quadratic look-up stays small.
                        None if !missed.iter().any(|s| s.same(v)) => {
                            missed.push(v);
                            sum += m.default_value;
                        }
                        None => {}
                    }
                }
                Value::Single(Base::Float(bounded(sum, m.lower_bound, m.upper_bound)))
            }
            Expr::MapResponsePoint { identifier } => {
                let d = self.response_decl(identifier)?;
                let Some(m) = &d.area_mapping else { return fail(format!("response {identifier} heeft geen qti-area-mapping")) };
                let given = self.responses.get(identifier).cloned().unwrap_or(Value::Null);
                let points: Vec<(f64, f64)> = given
                    .members()
                    .into_iter()
                    .filter_map(|b| match b {
                        Base::Point(x, y) => Some((*x, *y)),
                        _ => None,
                    })
                    .collect();
                // A point counts for the first area it is in (where areas
                // overlap, those listed first take priority: before, a point
                // in nested areas got both); each area counts once, however
                // many points are in it; a point in no area gets the default.
                let mut hit_areas = vec![false; m.entries.len()];
                let mut sum = 0.0;
                for p in &points {
                    match m.entries.iter().position(|e| inside(&e.area, *p)) {
                        Some(i) if !hit_areas[i] => {
                            hit_areas[i] = true;
                            sum += m.entries[i].value;
                        }
                        Some(_) => {}
                        None => sum += m.default_value,
                    }
                }
                Value::Single(Base::Float(bounded(sum, m.lower_bound, m.upper_bound)))
            }
            Expr::Null => Value::Null,
            Expr::IsNull { args } => boolean(self.one("qti-is-null", args)?.is_null()),
            Expr::Match { args } => {
                let (a, b) = self.two("qti-match", args)?;
                if a.is_null() || b.is_null() {
                    Value::Null
                } else {
                    boolean(match_values(&a, &b)?)
                }
            }
            Expr::Member { args } => {
                let (a, b) = self.two("qti-member", args)?;
                if a.is_null() || b.is_null() {
                    Value::Null
                } else {
                    let Value::Single(a) = a else { return fail("qti-member: de eerste operand is geen losse waarde") };
                    boolean(b.members().iter().any(|m| m.same(&a)))
                }
            }
            Expr::Contains { args } => {
                let (a, b) = self.two("qti-contains", args)?;
                if a.is_null() || b.is_null() {
                    Value::Null
                } else {
                    boolean(match (&a, &b) {
                        (Value::Ordered(a), Value::Ordered(b)) => a.windows(b.len()).any(|w| w.iter().zip(b).all(|(x, y)| x.same(y))),
                        (Value::Multiple(a), Value::Multiple(b)) => sub_multiset(b, a),
                        _ => return fail("qti-contains vergelijkt twee containers van dezelfde soort"),
                    })
                }
            }
            Expr::Delete { args } => {
                let (a, b) = self.two("qti-delete", args)?;
                if a.is_null() || b.is_null() {
                    Value::Null
                } else {
                    let Value::Single(a) = a else { return fail("qti-delete: de eerste operand is geen losse waarde") };
                    match b {
                        Value::Multiple(v) => Value::Multiple(v.into_iter().filter(|m| !m.same(&a)).collect()),
                        Value::Ordered(v) => Value::Ordered(v.into_iter().filter(|m| !m.same(&a)).collect()),
                        _ => return fail("qti-delete: de tweede operand is geen container"),
                    }
                }
            }
            Expr::Equal { tolerance_mode, tolerance, include_lower_bound, include_upper_bound, args } => {
                arity("qti-equal", args, 2)?;
                match self.numbers("qti-equal", args)? {
                    None => Value::Null,
                    Some(n) => {
                        let (x, y) = (n[0].number().unwrap_or(f64::NAN), n[1].number().unwrap_or(f64::NAN));
                        let t0 = tolerance.first().copied().unwrap_or(0.0);
                        let t1 = tolerance.get(1).copied().unwrap_or(t0);
                        let (lo, hi) = match tolerance_mode {
                            ToleranceMode::Exact => (x, x),
                            ToleranceMode::Absolute => (x - t0, x + t1),
                            // For a negative x the first end is the upper one:
                            // before, nothing matched a negative answer, not even x.
                            ToleranceMode::Relative => {
                                let (a, b) = (x * (1.0 - t0 / 100.0), x * (1.0 + t1 / 100.0));
                                (a.min(b), a.max(b))
                            }
                        };
                        let above = if *include_lower_bound { y >= lo } else { y > lo };
                        let below = if *include_upper_bound { y <= hi } else { y < hi };
                        boolean(if *tolerance_mode == ToleranceMode::Exact { x == y } else { above && below })
                    }
                }
            }
            Expr::EqualRounded { rounding_mode, figures, args } => {
                arity("qti-equal-rounded", args, 2)?;
                match self.numbers("qti-equal-rounded", args)? {
                    None => Value::Null,
                    Some(n) => {
                        let r = |b: &Base| round_to(b.number().unwrap_or(f64::NAN), *rounding_mode, *figures);
                        boolean(r(&n[0]) == r(&n[1]))
                    }
                }
            }
            Expr::Lt { args } => self.compare("qti-lt", args, |a, b| a < b)?,
            Expr::Gt { args } => self.compare("qti-gt", args, |a, b| a > b)?,
            Expr::Lte { args } => self.compare("qti-lte", args, |a, b| a <= b)?,
            Expr::Gte { args } => self.compare("qti-gte", args, |a, b| a >= b)?,
            Expr::And { args } => {
                let v = self.logic("qti-and", args)?;
                if v.contains(&Some(false)) {
                    boolean(false)
                } else if v.contains(&None) {
                    Value::Null
                } else {
                    boolean(true)
                }
            }
            Expr::Or { args } => {
                let v = self.logic("qti-or", args)?;
                if v.contains(&Some(true)) {
                    boolean(true)
                } else if v.contains(&None) {
                    Value::Null
                } else {
                    boolean(false)
                }
            }
            Expr::Not { args } => {
                arity("qti-not", args, 1)?;
                match self.logic("qti-not", args)?[0] {
                    Some(b) => boolean(!b),
                    None => Value::Null,
                }
            }
            Expr::AnyN { min, max, args } => {
                let v = self.logic("qti-any-n", args)?;
                let yes = v.iter().filter(|b| **b == Some(true)).count();
                let unknown = v.iter().filter(|b| b.is_none()).count();
                if yes > *max || yes + unknown < *min {
                    boolean(false)
                } else if unknown == 0 || (yes >= *min && yes + unknown <= *max) {
                    boolean(true)
                } else {
                    Value::Null
                }
            }
            Expr::Sum { args } => self.arith("qti-sum", args, 0, i64::checked_add, |a, b| a + b)?,
            Expr::Product { args } => self.arith("qti-product", args, 1, i64::checked_mul, |a, b| a * b)?,
            Expr::Subtract { args } => {
                arity("qti-subtract", args, 2)?;
                self.arith("qti-subtract", args, 0, i64::checked_sub, |a, b| a - b)?
            }
            Expr::Divide { args } => {
                arity("qti-divide", args, 2)?;
                match self.numbers("qti-divide", args)? {
                    Some(n) => finite(n[0].number().unwrap_or(f64::NAN) / n[1].number().unwrap_or(f64::NAN)),
                    None => Value::Null,
                }
            }
            Expr::IntegerDivide { args } => self.integers("qti-integer-divide", args, i64::checked_div)?,
            Expr::IntegerModulus { args } => self.integers("qti-integer-modulus", args, i64::checked_rem)?,
            Expr::Power { args } => {
                arity("qti-power", args, 2)?;
                match self.numbers("qti-power", args)? {
                    Some(n) => finite(n[0].number().unwrap_or(f64::NAN).powf(n[1].number().unwrap_or(f64::NAN))),
                    None => Value::Null,
                }
            }
            Expr::Round { args } => self.integer_of("qti-round", args, |x| (x + 0.5).floor())?,
            Expr::Truncate { args } => self.integer_of("qti-truncate", args, f64::trunc)?,
            Expr::RoundTo { rounding_mode, figures, args } => {
                arity("qti-round-to", args, 1)?;
                match self.numbers("qti-round-to", args)? {
                    Some(n) => finite(round_to(n[0].number().unwrap_or(f64::NAN), *rounding_mode, *figures)),
                    None => Value::Null,
                }
            }
            Expr::Max { args } | Expr::Min { args } => {
                let is_max = matches!(e, Expr::Max { .. });
                match self.flat_numbers(if is_max { "qti-max" } else { "qti-min" }, args)? {
                    None => Value::Null,
                    Some(n) if n.is_empty() => Value::Null,
                    Some(n) if n.iter().all(|b| matches!(b, Base::Int(_))) => {
                        let ints = n.iter().filter_map(|b| if let Base::Int(i) = b { Some(*i) } else { None });
                        Value::Single(Base::Int(if is_max { ints.max() } else { ints.min() }.unwrap_or(0)))
                    }
                    Some(n) => {
                        let f = n.iter().filter_map(Base::number);
                        Value::Single(Base::Float(if is_max { f.fold(f64::NEG_INFINITY, f64::max) } else { f.fold(f64::INFINITY, f64::min) }))
                    }
                }
            }
            Expr::Gcd { args } | Expr::Lcm { args } => {
                let is_gcd = matches!(e, Expr::Gcd { .. });
                let op = if is_gcd { "qti-gcd" } else { "qti-lcm" };
                match self.flat_numbers(op, args)? {
                    None => Value::Null,
                    Some(n) => {
                        let mut ints = Vec::new();
                        for b in n {
                            let Base::Int(i) = b else { return fail(format!("{op} rekent alleen met gehele getallen")) };
                            ints.push(i.unsigned_abs());
                        }
                        let r = if is_gcd {
                            Some(ints.into_iter().fold(0, gcd))
                        } else if ints.contains(&0) {
                            Some(0)
                        } else {
                            ints.into_iter().try_fold(1u64, |a, b| (a / gcd(a, b)).checked_mul(b))
                        };
                        // Out of the integer range: NULL.
                        r.and_then(|r| i64::try_from(r).ok()).map_or(Value::Null, |r| Value::Single(Base::Int(r)))
                    }
                }
            }
            Expr::Multiple { args } => self.container(args, false)?,
            Expr::Ordered { args } => self.container(args, true)?,
            Expr::ContainerSize { args } => {
                let v = self.one("qti-container-size", args)?;
                match v {
                    Value::Multiple(v) | Value::Ordered(v) => Value::Single(Base::Int(v.len() as i64)),
                    Value::Null => Value::Single(Base::Int(0)),
                    _ => return fail("qti-container-size: de operand is geen container"),
                }
            }
            Expr::Index { n, args } => match self.one("qti-index", args)? {
                Value::Ordered(v) => n.checked_sub(1).and_then(|i| v.get(i)).cloned().map_or(Value::Null, Value::Single),
                Value::Null => Value::Null,
                _ => return fail("qti-index: de operand is geen ordered container"),
            },
            Expr::FieldValue { field_identifier, args } => match self.one("qti-field-value", args)? {
                Value::Record(r) => r.get(field_identifier).cloned().map_or(Value::Null, Value::Single),
                Value::Null => Value::Null,
                _ => return fail("qti-field-value: de operand is geen record"),
            },
            Expr::StringMatch { case_sensitive, substring, args } => match self.texts("qti-string-match", args)? {
                None => Value::Null,
                Some((a, b)) => {
                    let (a, b) = if *case_sensitive { (a, b) } else { (a.to_lowercase(), b.to_lowercase()) };
                    boolean(if *substring { a.contains(&b) } else { a == b })
                }
            },
            Expr::Substring { case_sensitive, args } => match self.texts("qti-substring", args)? {
                None => Value::Null,
                Some((a, b)) => {
                    let (a, b) = if *case_sensitive { (a, b) } else { (a.to_lowercase(), b.to_lowercase()) };
                    boolean(b.contains(&a))
                }
            },
            Expr::Inside { area, args } => {
                let v = self.one("qti-inside", args)?;
                if v.is_null() {
                    Value::Null
                } else {
                    let mut any = false;
                    for b in v.members() {
                        let Base::Point(x, y) = b else { return fail("qti-inside: de operand is geen punt") };
                        any |= inside(area, (*x, *y));
                    }
                    boolean(any)
                }
            }
        })
    }

    fn arith(&mut self, op: &str, args: &[Expr], unit: i64, int: fn(i64, i64) -> Option<i64>, float: fn(f64, f64) -> f64) -> Result<Value, Unscorable> {
        // Sum and product take containers too (`qti-sum` of `qti-test-variables`).
        let n = if matches!(op, "qti-sum" | "qti-product") { self.flat_numbers(op, args)? } else { self.numbers(op, args)? };
        let Some(n) = n else { return Ok(Value::Null) };
        if n.iter().all(|b| matches!(b, Base::Int(_))) {
            let mut it = n.iter().filter_map(|b| if let Base::Int(i) = b { Some(*i) } else { None });
            let first = if unit == 0 && op == "qti-subtract" { it.next().unwrap_or(0) } else { unit };
            let r = it.try_fold(first, int);
            return Ok(r.map_or(Value::Null, |r| Value::Single(Base::Int(r))));
        }
        let mut it = n.iter().filter_map(Base::number);
        let first = if op == "qti-subtract" { it.next().unwrap_or(0.0) } else { unit as f64 };
        Ok(finite(it.fold(first, float)))
    }

    fn integers(&mut self, op: &str, args: &[Expr], f: fn(i64, i64) -> Option<i64>) -> Result<Value, Unscorable> {
        arity(op, args, 2)?;
        let Some(n) = self.numbers(op, args)? else { return Ok(Value::Null) };
        match (&n[0], &n[1]) {
            (Base::Int(a), Base::Int(b)) => Ok(f(*a, *b).map_or(Value::Null, |r| Value::Single(Base::Int(r)))),
            _ => fail(format!("{op} rekent alleen met gehele getallen")),
        }
    }

    fn integer_of(&mut self, op: &str, args: &[Expr], f: fn(f64) -> f64) -> Result<Value, Unscorable> {
        arity(op, args, 1)?;
        let Some(n) = self.numbers(op, args)? else { return Ok(Value::Null) };
        let r = f(n[0].number().unwrap_or(f64::NAN));
        // Out of the integer range (or NaN): NULL.
        Ok(if r.is_finite() && r.abs() < 9.0e15 { Value::Single(Base::Int(r as i64)) } else { Value::Null })
    }
}

fn boolean(b: bool) -> Value {
    Value::Single(Base::Bool(b))
}

fn finite(x: f64) -> Value {
    if x.is_finite() {
        Value::Single(Base::Float(x))
    } else {
        Value::Null
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn bounded(sum: f64, lower: Option<f64>, upper: Option<f64>) -> f64 {
    let sum = lower.map_or(sum, |l| sum.max(l));
    upper.map_or(sum, |u| sum.min(u))
}

/// Whether every member of `small` has its own match in `big` (multisets).
fn sub_multiset(small: &[Base], big: &[Base]) -> bool {
    let mut used = vec![false; big.len()];
    small.iter().all(|s| match big.iter().enumerate().position(|(i, b)| !used[i] && b.same(s)) {
        Some(i) => {
            used[i] = true;
            true
        }
        None => false,
    })
}

fn match_values(a: &Value, b: &Value) -> Result<bool, Unscorable> {
    Ok(match (a, b) {
        (Value::Single(a), Value::Single(b)) => a.same(b),
        (Value::Multiple(a), Value::Multiple(b)) => a.len() == b.len() && sub_multiset(a, b),
        (Value::Ordered(a), Value::Ordered(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y)),
        (Value::Record(a), Value::Record(b)) => a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.same(w))),
        // A single value against a one-member container (a response of one
        // choice matched against a base value): QTI engines treat these as
        // different cardinalities, so they do not match.
        _ => return fail("qti-match vergelijkt waarden van verschillende cardinaliteit"),
    })
}

/// Rounds to significant figures or decimal places (half up).
pub fn round_to(x: f64, mode: RoundingMode, figures: i32) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let places = match mode {
        RoundingMode::DecimalPlaces => figures,
        RoundingMode::SignificantFigures => figures - 1 - x.abs().log10().floor() as i32,
    };
    // Only whole powers of ten (exact in binary) scale: dividing by 0.01
    // instead of multiplying by 100 gave 1199.9999999999998 for 1234 to two
    // figures on Windows, whose powi(10, -2) is not the nearest 0.01.
    let factor = 10f64.powi(places.abs());
    let (scaled, back): (f64, fn(f64, f64) -> f64) = if places >= 0 { (x * factor, |v, f| v / f) } else { (x / factor, |v, f| v * f) };
    // The product is taken at its printed precision first, so 0.15 * 10
    // rounds to 2 as a person expects, not to 1 from 1.4999999999999998.
    let scaled: f64 = format!("{scaled:.9}").parse().unwrap_or(scaled);
    // Half away from zero, as a person rounds and as QTI's reference engine
    // does (-2.35 to one decimal is -2.4; floor(x + 0.5) gave -2.3).
    back(scaled.round(), factor)
}

/// Whether point `p` is in `area` (HTML image-map shapes; a polygon by the
/// even-odd rule; the edge counts as inside).
pub fn inside(area: &Area, (x, y): (f64, f64)) -> bool {
    let c = &area.coords;
    match area.shape {
        Shape::Default => true,
        Shape::Circle if c.len() >= 3 => (x - c[0]).powi(2) + (y - c[1]).powi(2) <= c[2] * c[2],
        Shape::Ellipse if c.len() >= 4 && c[2] > 0.0 && c[3] > 0.0 => ((x - c[0]) / c[2]).powi(2) + ((y - c[1]) / c[3]).powi(2) <= 1.0,
        Shape::Rect if c.len() >= 4 => x >= c[0].min(c[2]) && x <= c[0].max(c[2]) && y >= c[1].min(c[3]) && y <= c[1].max(c[3]),
        Shape::Poly if c.len() >= 6 => {
            let pts: Vec<(f64, f64)> = c.chunks_exact(2).map(|p| (p[0], p[1])).collect();
            let mut inside = false;
            let mut j = pts.len() - 1;
            for i in 0..pts.len() {
                let ((xi, yi), (xj, yj)) = (pts[i], pts[j]);
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
            inside
        }
        _ => false,
    }
}
