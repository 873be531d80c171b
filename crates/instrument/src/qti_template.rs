//! Template processing evaluated at pack time (issue 18): cloned items with
//! random values become ONE fixed variant.
//!
//! The approved instrument must be the same for every student, so an item's
//! random draws (`qti-random`, `qti-random-integer`, `qti-random-float`) do
//! not vary per student or per sitting: they come from a generator seeded
//! with the SHA-256 of the item file ([`seed`]). The kiosk, the hub and a
//! re-pack read the same signed bytes and so draw the same values; pack's
//! report says the item is such a variant. An author who wants another
//! variant changes the item (or makes one item per variant).
//!
//! A child module of [`super`] (declared in `qti.rs` with `#[path]`). Values
//! are lists of strings (a single value is a list of one, NULL the empty
//! list), as in [`super::content`]. What is evaluated: the rules
//! `qti-set-template-value`, `qti-set-correct-response`,
//! `qti-set-default-value`, `qti-template-condition`,
//! `qti-template-constraint`, `qti-exit-template`, and the expressions in
//! [`Run::expr`]; anything else is refused naming it.

use super::xml::Element;
use super::{element_children, invalid, required, unsupported, QtiError};
use std::collections::HashMap;

/// Most times template processing is restarted because a
/// `qti-template-constraint` failed before the item is refused.
pub const MAX_CONSTRAINT_TRIES: usize = 100;
/// Most values one expression may produce (`qti-repeat` of a package's count).
pub const MAX_VALUES: usize = 10_000;
/// Most expressions evaluated for one item, over all constraint retries
/// (nested `qti-repeat`s must not keep the importer busy).
pub const MAX_STEPS: usize = 1_000_000;

/// The seed of an item's draws: SHA-256 of a domain and the item file's bytes.
pub fn seed(item_bytes: &[u8]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"exam-kiosk qti template variant v1\0");
    ctx.update(item_bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// A deterministic stream of numbers: SHA-256 of the seed and a counter.
#[derive(Debug, Clone)]
struct Draws {
    seed: [u8; 32],
    counter: u64,
    /// Expressions evaluated so far (see [`MAX_STEPS`]).
    steps: usize,
}

impl Draws {
    fn next_u64(&mut self) -> u64 {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&self.seed);
        ctx.update(&self.counter.to_be_bytes());
        self.counter += 1;
        let d = ctx.finish();
        u64::from_be_bytes(d.as_ref()[..8].try_into().expect("32-byte digest"))
    }
    /// Uniform in `0..n` (`n > 0`; the bias of `%` on 64 bits is negligible here).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The outcome of a template processing run.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Template variable values after processing.
    pub values: HashMap<String, Vec<String>>,
    /// Correct responses set: (response, values), in order.
    pub correct: Vec<(String, Vec<String>)>,
    /// Whether a random operator was evaluated.
    pub random: bool,
}

/// What template processing reads besides template variables.
pub(super) struct Inputs<'a> {
    /// Template variables' declared defaults.
    pub defaults: &'a HashMap<String, Vec<String>>,
    /// Declared template variables.
    pub declared: &'a std::collections::HashSet<String>,
    /// Correct responses of the response declarations.
    pub correct: &'a HashMap<String, Vec<String>>,
}

/// Runs `<qti-template-processing>` with draws from `seed`.
pub(super) fn run(file: &str, tp: &Element, inputs: &Inputs<'_>, seed: [u8; 32]) -> Result<Outcome, QtiError> {
    let mut draws = Draws { seed, counter: 0, steps: 0 };
    for _ in 0..MAX_CONSTRAINT_TRIES {
        let mut run = Run {
            file,
            inputs,
            draws: &mut draws,
            out: Outcome { values: inputs.defaults.clone(), ..Default::default() },
        };
        match run.rules(tp)? {
            Flow::Restart => continue,
            Flow::Next | Flow::Exit => return Ok(run.out),
        }
    }
    Err(unsupported(
        file,
        tp,
        &format!("qti-template-constraint is still not met after {MAX_CONSTRAINT_TRIES} draws: no variant can be fixed at pack time"),
    ))
}

enum Flow {
    Next,
    Exit,
    Restart,
}

struct Run<'a, 'i> {
    file: &'a str,
    inputs: &'a Inputs<'i>,
    draws: &'a mut Draws,
    out: Outcome,
}

type Value = Vec<String>;

fn boolean(b: bool) -> Value {
    vec![if b { "true" } else { "false" }.to_string()]
}

fn is_int(s: &str) -> bool {
    s.trim().parse::<i64>().is_ok()
}

/// A float as QTI writes it (always with a decimal point or exponent).
fn float(x: f64) -> String {
    format!("{x:?}")
}

fn int(x: i64) -> String {
    x.to_string()
}

impl Run<'_, '_> {
    fn rules(&mut self, parent: &Element) -> Result<Flow, QtiError> {
        for rule in element_children(self.file, parent)? {
            match self.rule(rule)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    fn rule(&mut self, rule: &Element) -> Result<Flow, QtiError> {
        let file = self.file;
        match rule.name.as_str() {
            "qti-set-template-value" | "qti-set-correct-response" | "qti-set-default-value" => {
                let id = required(file, rule, "identifier")?.to_string();
                let value = self.only_expr(rule)?;
                match rule.name.as_str() {
                    "qti-set-template-value" => {
                        if !self.inputs.declared.contains(&id) {
                            return Err(invalid(file, rule, format!("template variable {id} is not declared")));
                        }
                        self.out.values.insert(id, value);
                    }
                    "qti-set-correct-response" => self.out.correct.push((id, value)),
                    // The default of a response or outcome: nothing the kiosk shows or the hub reads.
                    _ => {}
                }
                Ok(Flow::Next)
            }
            "qti-template-condition" => {
                for branch in element_children(file, rule)? {
                    match branch.name.as_str() {
                        "qti-template-if" | "qti-template-else-if" => {
                            let children = element_children(file, branch)?;
                            let Some((cond, body)) = children.split_first() else {
                                return Err(invalid(file, branch, format!("{} without a condition", branch.tag())));
                            };
                            if self.truth(cond)? {
                                return self.rule_list(body);
                            }
                        }
                        "qti-template-else" => return self.rules(branch),
                        _ => return Err(super::unexpected(file, branch, "qti-template-condition")),
                    }
                }
                Ok(Flow::Next)
            }
            "qti-template-constraint" => {
                let value = self.only_expr(rule)?;
                Ok(if value == ["true"] { Flow::Next } else { Flow::Restart })
            }
            "qti-exit-template" => Ok(Flow::Exit),
            _ => Err(unsupported(file, rule, "this template processing rule cannot be evaluated at pack time")),
        }
    }

    fn rule_list(&mut self, rules: &[&Element]) -> Result<Flow, QtiError> {
        for rule in rules {
            match self.rule(rule)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    fn only_expr(&mut self, e: &Element) -> Result<Value, QtiError> {
        match element_children(self.file, e)?.as_slice() {
            [x] => self.expr(x),
            [] => Err(invalid(self.file, e, format!("{} without an expression", e.tag()))),
            [_, extra, ..] => Err(invalid(self.file, extra, format!("{} takes one expression", e.tag()))),
        }
    }

    fn truth(&mut self, e: &Element) -> Result<bool, QtiError> {
        Ok(self.expr(e)? == ["true"])
    }

    fn args(&mut self, e: &Element) -> Result<Vec<Value>, QtiError> {
        element_children(self.file, e)?.into_iter().map(|c| self.expr(c)).collect()
    }

    /// Numbers of all arguments (containers flattened); `None` when one is NULL.
    fn numbers(&mut self, e: &Element) -> Result<Option<(Vec<f64>, bool)>, QtiError> {
        let mut out = Vec::new();
        let mut all_int = true;
        for v in self.args(e)? {
            if v.is_empty() {
                return Ok(None);
            }
            for s in v {
                all_int &= is_int(&s);
                out.push(self.num(e, &s)?);
            }
        }
        Ok(Some((out, all_int)))
    }

    fn num(&self, e: &Element, s: &str) -> Result<f64, QtiError> {
        s.trim().parse::<f64>().map_err(|_| invalid(self.file, e, format!("{} of {s:?}, which is not a number", e.tag())))
    }

    /// Two numeric arguments.
    fn pair(&mut self, e: &Element) -> Result<Option<(f64, f64, bool)>, QtiError> {
        match self.numbers(e)? {
            None => Ok(None),
            Some((v, ints)) if v.len() == 2 => Ok(Some((v[0], v[1], ints))),
            Some(_) => Err(invalid(self.file, e, format!("{} takes two single numbers", e.tag()))),
        }
    }

    /// An attribute that is a number or a reference to a template variable
    /// (`{name}` or `name`).
    fn number_attr(&self, e: &Element, name: &str) -> Result<Option<f64>, QtiError> {
        let Some(raw) = e.attr(name) else { return Ok(None) };
        if let Ok(x) = raw.trim().parse::<f64>() {
            return Ok(Some(x));
        }
        let id = raw.trim().trim_start_matches('{').trim_end_matches('}');
        match self.out.values.get(id).map(Vec::as_slice) {
            Some([v]) => Ok(Some(self.num(e, v)?)),
            _ => Err(invalid(self.file, e, format!("{name}={raw:?} is neither a number nor a template variable with one value"))),
        }
    }

    fn expr(&mut self, e: &Element) -> Result<Value, QtiError> {
        let file = self.file;
        self.draws.steps += 1;
        if self.draws.steps > MAX_STEPS {
            return Err(QtiError::TooLarge { file: file.into(), what: "template processing steps of one item", limit: MAX_STEPS as u64 });
        }
        let v = match e.name.as_str() {
            "qti-base-value" => vec![e.text().trim().to_string()],
            "qti-null" => Vec::new(),
            "qti-variable" => {
                let id = required(file, e, "identifier")?;
                self.out.values.get(id).cloned().unwrap_or_default()
            }
            "qti-default" => {
                let id = required(file, e, "identifier")?;
                self.inputs.defaults.get(id).cloned().unwrap_or_default()
            }
            "qti-correct" => {
                let id = required(file, e, "identifier")?;
                match self.out.correct.iter().rev().find(|(r, _)| r == id) {
                    Some((_, v)) => v.clone(),
                    None => self.inputs.correct.get(id).cloned().unwrap_or_default(),
                }
            }
            "qti-multiple" | "qti-ordered" => self.args(e)?.concat(),
            "qti-container-size" => vec![int(self.only_expr(e)?.len() as i64)],
            "qti-is-null" => boolean(self.only_expr(e)?.is_empty()),
            "qti-random" => {
                self.out.random = true;
                let c = self.only_expr(e)?;
                if c.is_empty() {
                    Vec::new()
                } else {
                    let i = self.draws.below(c.len() as u64) as usize;
                    vec![c[i].clone()]
                }
            }
            "qti-random-integer" => {
                self.out.random = true;
                let min = self.number_attr(e, "min")?.unwrap_or(0.0) as i64;
                let max = self.number_attr(e, "max")?.ok_or_else(|| invalid(file, e, "qti-random-integer needs attribute max"))? as i64;
                let step = self.number_attr(e, "step")?.unwrap_or(1.0) as i64;
                if step < 1 || max < min {
                    return Err(invalid(file, e, format!("qti-random-integer from {min} to {max} in steps of {step}")));
                }
                // In i128: a package's extreme bounds must not overflow.
                let (min, max, step) = (min as i128, max as i128, step as i128);
                let n = u64::try_from((max - min) / step + 1).unwrap_or(u64::MAX);
                let drawn = min + step * self.draws.below(n) as i128;
                vec![i64::try_from(drawn).map(int).map_err(|_| invalid(file, e, "qti-random-integer out of range"))?]
            }
            "qti-random-float" => {
                self.out.random = true;
                let min = self.number_attr(e, "min")?.unwrap_or(0.0);
                let max = self.number_attr(e, "max")?.ok_or_else(|| invalid(file, e, "qti-random-float needs attribute max"))?;
                if !min.is_finite() || !max.is_finite() || max < min {
                    return Err(invalid(file, e, format!("qti-random-float from {min} to {max}")));
                }
                vec![float(min + (max - min) * self.draws.unit())]
            }
            "qti-index" => {
                let n = self.number_attr(e, "n")?.ok_or_else(|| invalid(file, e, "qti-index needs attribute n"))? as i64;
                let c = self.only_expr(e)?;
                match usize::try_from(n).ok().and_then(|n| n.checked_sub(1)).and_then(|i| c.get(i)) {
                    Some(v) => vec![v.clone()],
                    None => Vec::new(),
                }
            }
            "qti-repeat" => {
                let n = self.number_attr(e, "number-repeats")?.ok_or_else(|| invalid(file, e, "qti-repeat needs attribute number-repeats"))?;
                let mut out = Vec::new();
                for _ in 0..(n.clamp(0.0, (MAX_VALUES + 1) as f64) as usize) {
                    out.extend(self.args(e)?.concat());
                    if out.len() > MAX_VALUES {
                        return Err(QtiError::TooLarge { file: file.into(), what: "values of one template expression", limit: MAX_VALUES as u64 });
                    }
                }
                out
            }
            "qti-member" | "qti-delete" | "qti-contains" => {
                let args = self.args(e)?;
                let [a, b] = args.as_slice() else { return Err(invalid(file, e, format!("{} takes two expressions", e.tag()))) };
                match e.name.as_str() {
                    "qti-member" if a.is_empty() || b.is_empty() => Vec::new(),
                    "qti-member" => boolean(b.contains(&a[0])),
                    "qti-delete" => b.iter().filter(|v| !a.contains(v)).cloned().collect(),
                    _ => boolean(b.iter().all(|v| a.contains(v))),
                }
            }
            "qti-match" => {
                let args = self.args(e)?;
                let [a, b] = args.as_slice() else { return Err(invalid(file, e, "qti-match takes two expressions")) };
                if a.is_empty() || b.is_empty() {
                    Vec::new()
                } else {
                    let (mut x, mut y) = (a.clone(), b.clone());
                    x.sort();
                    y.sort();
                    boolean(x == y)
                }
            }
            "qti-string-match" => {
                let args = self.args(e)?;
                let [a, b] = args.as_slice() else { return Err(invalid(file, e, "qti-string-match takes two expressions")) };
                let case = e.attr("case-sensitive") != Some("false");
                match (a.first(), b.first()) {
                    (Some(a), Some(b)) if case => boolean(a == b),
                    (Some(a), Some(b)) => boolean(a.to_lowercase() == b.to_lowercase()),
                    _ => Vec::new(),
                }
            }
            "qti-and" | "qti-or" => {
                let args = self.args(e)?;
                if args.iter().any(Vec::is_empty) {
                    Vec::new()
                } else if e.name == "qti-and" {
                    boolean(args.iter().all(|v| v == &["true"]))
                } else {
                    boolean(args.iter().any(|v| v == &["true"]))
                }
            }
            "qti-not" => match self.only_expr(e)?.as_slice() {
                [] => Vec::new(),
                [v] => boolean(v != "true"),
                _ => return Err(invalid(file, e, "qti-not of several values")),
            },
            "qti-equal" | "qti-lt" | "qti-gt" | "qti-lte" | "qti-gte" => match self.pair(e)? {
                None => Vec::new(),
                Some((a, b, _)) => boolean(match e.name.as_str() {
                    "qti-lt" => a < b,
                    "qti-gt" => a > b,
                    "qti-lte" => a <= b,
                    "qti-gte" => a >= b,
                    _ => self.equal(e, a, b)?,
                }),
            },
            "qti-sum" | "qti-product" | "qti-min" | "qti-max" => match self.numbers(e)? {
                None => Vec::new(),
                Some((v, _)) if v.is_empty() => Vec::new(),
                Some((v, ints)) => {
                    let x = match e.name.as_str() {
                        "qti-sum" => v.iter().sum(),
                        "qti-product" => v.iter().product(),
                        "qti-min" => v.iter().copied().fold(f64::INFINITY, f64::min),
                        _ => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    };
                    vec![if ints && x.abs() < 9.0e15 { int(x as i64) } else { float(x) }]
                }
            },
            "qti-subtract" | "qti-divide" | "qti-power" | "qti-integer-divide" | "qti-integer-modulus" => match self.pair(e)? {
                None => Vec::new(),
                Some((a, b, ints)) => match e.name.as_str() {
                    "qti-subtract" if ints => vec![(a as i64).checked_sub(b as i64).map_or_else(|| float(a - b), int)],
                    "qti-subtract" => vec![float(a - b)],
                    "qti-divide" if b == 0.0 => Vec::new(),
                    "qti-divide" => vec![float(a / b)],
                    "qti-power" => vec![float(a.powf(b))],
                    _ if b as i64 == 0 => Vec::new(),
                    "qti-integer-divide" => (a as i64).checked_div_euclid(b as i64).map(int).into_iter().collect(),
                    _ => (a as i64).checked_rem_euclid(b as i64).map(int).into_iter().collect(),
                },
            },
            "qti-gcd" | "qti-lcm" => match self.numbers(e)? {
                None => Vec::new(),
                Some((v, _)) => {
                    // In i128, saturating: a package's extreme values must not overflow.
                    fn gcd(a: i128, b: i128) -> i128 {
                        if b == 0 { a.abs() } else { gcd(b, a % b) }
                    }
                    let ints: Vec<i128> = v.iter().map(|x| *x as i64 as i128).collect();
                    let r = if e.name == "qti-gcd" {
                        ints.iter().fold(0, |g, x| gcd(g, *x))
                    } else {
                        ints.iter().fold(1i128, |l, x| if *x == 0 || l == 0 { 0 } else { (l / gcd(l, *x)).saturating_mul(*x).abs() })
                    };
                    i64::try_from(r).map(int).into_iter().collect()
                }
            },
            "qti-round" | "qti-truncate" | "qti-integer-to-float" | "qti-math-operator" | "qti-stats-operator" | "qti-round-to" => {
                match self.numbers(e)? {
                    None => Vec::new(),
                    Some((v, _)) => self.unary(e, &v)?,
                }
            }
            "qti-equal-rounded" => match self.pair(e)? {
                None => Vec::new(),
                Some((a, b, _)) => {
                    let f = self.round_to(e, a)?;
                    boolean(f == self.round_to(e, b)?)
                }
            },
            "qti-math-constant" => match e.attr("name") {
                Some("pi") => vec![float(std::f64::consts::PI)],
                Some("e") => vec![float(std::f64::consts::E)],
                other => return Err(invalid(file, e, format!("qti-math-constant name={other:?}"))),
            },
            _ => return Err(unsupported(file, e, "this template processing expression cannot be evaluated at pack time")),
        };
        if v.len() > MAX_VALUES {
            return Err(QtiError::TooLarge { file: file.into(), what: "values of one template expression", limit: MAX_VALUES as u64 });
        }
        Ok(v)
    }

    fn equal(&self, e: &Element, a: f64, b: f64) -> Result<bool, QtiError> {
        let tolerance: Vec<f64> = e
            .attr("tolerance")
            .unwrap_or("0")
            .split_whitespace()
            .map(|t| self.num(e, t))
            .collect::<Result<_, _>>()?;
        let t0 = tolerance.first().copied().unwrap_or(0.0);
        let t1 = tolerance.get(1).copied().unwrap_or(t0);
        Ok(match e.attr("tolerance-mode").unwrap_or("exact") {
            "exact" => a == b,
            "absolute" => b >= a - t0 && b <= a + t1,
            "relative" => b >= a * (1.0 - t0 / 100.0) && b <= a * (1.0 + t1 / 100.0),
            other => return Err(invalid(self.file, e, format!("tolerance-mode={other:?}"))),
        })
    }

    /// `qti-round-to` and `qti-equal-rounded`: significant figures or decimal places.
    fn round_to(&self, e: &Element, x: f64) -> Result<f64, QtiError> {
        let figures = self.number_attr(e, "figures")?.ok_or_else(|| invalid(self.file, e, format!("{} needs attribute figures", e.tag())))? as i32;
        let places = match e.attr("rounding-mode").unwrap_or("significantFigures") {
            "significantFigures" if x == 0.0 => return Ok(0.0),
            "significantFigures" => figures - 1 - x.abs().log10().floor() as i32,
            "decimalPlaces" => figures,
            other => return Err(invalid(self.file, e, format!("rounding-mode={other:?}"))),
        };
        let scale = 10f64.powi(places);
        Ok((x * scale).round() / scale)
    }

    fn unary(&self, e: &Element, v: &[f64]) -> Result<Value, QtiError> {
        let single = |v: &[f64]| match v {
            [x] => Ok(*x),
            _ => Err(invalid(self.file, e, format!("{} takes one single number", e.tag()))),
        };
        Ok(match e.name.as_str() {
            "qti-round" => vec![int(single(v)?.round() as i64)],
            "qti-truncate" => vec![int(single(v)?.trunc() as i64)],
            "qti-integer-to-float" => vec![float(single(v)?)],
            "qti-round-to" => vec![float(self.round_to(e, single(v)?)?)],
            "qti-stats-operator" => {
                let n = v.len() as f64;
                if v.is_empty() {
                    return Ok(Vec::new());
                }
                let mean = v.iter().sum::<f64>() / n;
                let ss = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
                let x = match e.attr("name") {
                    Some("mean") => mean,
                    Some("sampleVariance") if v.len() > 1 => ss / (n - 1.0),
                    Some("sampleSD") if v.len() > 1 => (ss / (n - 1.0)).sqrt(),
                    Some("sampleVariance" | "sampleSD") => return Ok(Vec::new()),
                    Some("popVariance") => ss / n,
                    Some("popSD") => (ss / n).sqrt(),
                    other => return Err(invalid(self.file, e, format!("qti-stats-operator name={other:?}"))),
                };
                vec![float(x)]
            }
            _ => {
                let name = e.attr("name").unwrap_or("");
                let x = match (name, v) {
                    ("atan2", [y, x]) => y.atan2(*x),
                    (_, [x]) => match name {
                        "sin" => x.sin(),
                        "cos" => x.cos(),
                        "tan" => x.tan(),
                        "sec" => 1.0 / x.cos(),
                        "csc" => 1.0 / x.sin(),
                        "cot" => 1.0 / x.tan(),
                        "asin" => x.asin(),
                        "acos" => x.acos(),
                        "atan" => x.atan(),
                        "sinh" => x.sinh(),
                        "cosh" => x.cosh(),
                        "tanh" => x.tanh(),
                        "log" => x.log10(),
                        "ln" => x.ln(),
                        "exp" => x.exp(),
                        "abs" => x.abs(),
                        "signum" => x.signum(),
                        "floor" => x.floor(),
                        "ceil" => x.ceil(),
                        "toDegrees" => x.to_degrees(),
                        "toRadians" => x.to_radians(),
                        _ => return Err(invalid(self.file, e, format!("qti-math-operator name={name:?}"))),
                    },
                    _ => return Err(invalid(self.file, e, format!("qti-math-operator name={name:?} with {} values", v.len()))),
                };
                if x.is_finite() { vec![float(x)] } else { Vec::new() }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn eval(rules: &str, vars: &[&str]) -> Outcome {
        let xml = format!("<qti-template-processing>{rules}</qti-template-processing>");
        let tp = crate::xml::parse(xml.as_bytes(), "t.xml").unwrap();
        let declared: HashSet<String> = vars.iter().map(|v| v.to_string()).collect();
        let (defaults, correct) = (HashMap::new(), HashMap::new());
        run("t.xml", &tp, &Inputs { defaults: &defaults, declared: &declared, correct: &correct }, seed(b"x")).unwrap()
    }

    fn set(id: &str, expr: &str) -> String {
        format!(r#"<qti-set-template-value identifier="{id}">{expr}</qti-set-template-value>"#)
    }

    fn int(v: i64) -> String {
        format!(r#"<qti-base-value base-type="integer">{v}</qti-base-value>"#)
    }

    #[test]
    fn the_operators_the_corpus_uses_evaluate_as_qti_defines_them() {
        let t = format!("<qti-ordered>{}{}{}</qti-ordered>", int(2), int(4), int(9));
        let rules = [
            set("T", &t),
            set("DIV", &format!("<qti-integer-divide>{}{}</qti-integer-divide>", int(120), int(7))),
            set("MOD", &format!("<qti-integer-modulus>{}{}</qti-integer-modulus>", int(-7), int(3))),
            set("MEAN", r#"<qti-stats-operator name="mean"><qti-variable identifier="T"/></qti-stats-operator>"#),
            set("SD", r#"<qti-round-to rounding-mode="decimalPlaces" figures="2"><qti-stats-operator name="popSD"><qti-variable identifier="T"/></qti-stats-operator></qti-round-to>"#),
            set("SIG", r#"<qti-round-to rounding-mode="significantFigures" figures="2"><qti-base-value base-type="float">1234.5</qti-base-value></qti-round-to>"#),
            set("IDX", r#"<qti-index n="2"><qti-variable identifier="T"/></qti-index>"#),
            set("MIN", r#"<qti-min><qti-variable identifier="T"/></qti-min>"#),
            set("F", &format!("<qti-integer-to-float>{}</qti-integer-to-float>", int(3))),
            set("DEG", r#"<qti-round><qti-math-operator name="toDegrees"><qti-math-constant name="pi"/></qti-math-operator></qti-round>"#),
            set("DEL", &format!(r#"<qti-delete>{}<qti-variable identifier="T"/></qti-delete>"#, int(4))),
            set("NUL", "<qti-is-null><qti-variable identifier=\"NONE\"/></qti-is-null>"),
            set("DIV0", &format!("<qti-divide>{}{}</qti-divide>", int(1), int(0))),
            set("REP", &format!(r#"<qti-ordered><qti-repeat number-repeats="3">{}</qti-repeat></qti-ordered>"#, int(1))),
        ]
        .concat();
        let ids = ["T", "DIV", "MOD", "MEAN", "SD", "SIG", "IDX", "MIN", "F", "DEG", "DEL", "NUL", "DIV0", "REP"];
        let out = eval(&rules, &ids);
        let v = |id: &str| out.values.get(id).cloned().unwrap_or_default().join(";");
        assert_eq!(v("DIV"), "17");
        assert_eq!(v("MOD"), "2");
        assert_eq!(v("MEAN"), "5.0");
        assert_eq!(v("SD"), "2.94");
        assert_eq!(v("SIG"), "1200.0");
        assert_eq!(v("IDX"), "4");
        assert_eq!(v("MIN"), "2");
        assert_eq!(v("F"), "3.0");
        assert_eq!(v("DEG"), "180");
        assert_eq!(v("DEL"), "2;9");
        assert_eq!(v("NUL"), "true");
        assert_eq!(v("DIV0"), "", "division by zero is NULL");
        assert_eq!(v("REP"), "1;1;1");
        assert!(!out.random);
    }

    /// A hostile package's extreme numbers end in a value, NULL or a
    /// refusal — never an overflow panic or an endless loop.
    #[test]
    fn extreme_values_neither_panic_nor_hang() {
        let big = "<qti-base-value base-type=\"integer\">-9223372036854775808</qti-base-value>";
        let rules = [
            set("A", r#"<qti-random-integer min="-9223372036854775808" max="9223372036854775807"/>"#),
            set("B", &format!("<qti-integer-divide>{big}{}</qti-integer-divide>", int(-1))),
            set("C", &format!("<qti-subtract>{big}{}</qti-subtract>", int(1))),
            set("D", &format!("<qti-gcd>{big}{big}</qti-gcd>")),
            set("E", &format!("<qti-lcm>{big}{}</qti-lcm>", int(3))),
            set("F", r#"<qti-ordered><qti-repeat number-repeats="1000000000000"><qti-null/></qti-repeat></qti-ordered>"#),
            set("G", r#"<qti-random-float min="0" max="1e400"/>"#),
        ]
        .concat();
        let xml = format!("<qti-template-processing>{rules}</qti-template-processing>");
        let tp = crate::xml::parse(xml.as_bytes(), "t.xml").unwrap();
        let declared: HashSet<String> = ["A", "B", "C", "D", "E", "F", "G"].iter().map(|v| v.to_string()).collect();
        let (d, c) = (HashMap::new(), HashMap::new());
        let err = run("t.xml", &tp, &Inputs { defaults: &d, declared: &declared, correct: &c }, seed(b"x")).unwrap_err();
        assert!(err.to_string().contains("qti-random-float from 0 to inf"), "{err}");
        // Without the infinite bound, the rest evaluates.
        let xml = xml.replace("max=\"1e400\"", "max=\"1\"");
        let tp = crate::xml::parse(xml.as_bytes(), "t.xml").unwrap();
        let out = run("t.xml", &tp, &Inputs { defaults: &d, declared: &declared, correct: &c }, seed(b"x")).unwrap();
        assert_eq!(out.values["B"], Vec::<String>::new(), "i64::MIN / -1 is NULL");
        assert_eq!(out.values["C"], ["-9.223372036854776e18"]);
        assert_eq!(out.values["D"], Vec::<String>::new(), "|i64::MIN| does not fit");
        assert!(out.values["F"].is_empty());
        // Nested repeats: stopped by the step budget.
        let nested = set("F", r#"<qti-ordered><qti-repeat number-repeats="9000"><qti-ordered><qti-repeat number-repeats="9000"><qti-null/></qti-repeat></qti-ordered></qti-repeat></qti-ordered>"#);
        let tp = crate::xml::parse(format!("<qti-template-processing>{nested}</qti-template-processing>").as_bytes(), "t.xml").unwrap();
        let err = run("t.xml", &tp, &Inputs { defaults: &d, declared: &declared, correct: &c }, seed(b"x")).unwrap_err();
        assert!(err.to_string().contains("template processing steps"), "{err}");
    }

    #[test]
    fn draws_depend_only_on_the_seed() {
        let rules = set("A", r#"<qti-random-integer min="1" max="1000000"/>"#) + &set("F", r#"<qti-random-float min="0" max="1"/>"#);
        let a = eval(&rules, &["A", "F"]);
        let b = eval(&rules, &["A", "F"]);
        assert!(a.random);
        assert_eq!(a.values, b.values);
        assert_ne!(seed(b"x"), seed(b"y"));
        // Undeclared target: refused, naming it.
        let tp = crate::xml::parse(format!("<qti-template-processing>{rules}</qti-template-processing>").as_bytes(), "t.xml").unwrap();
        let (d, c, declared) = (HashMap::new(), HashMap::new(), HashSet::new());
        let err = run("t.xml", &tp, &Inputs { defaults: &d, declared: &declared, correct: &c }, seed(b"x")).unwrap_err();
        assert!(err.to_string().contains("template variable A is not declared"), "{err}");
    }
}
