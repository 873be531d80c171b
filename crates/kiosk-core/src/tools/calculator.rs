//! The exam calculator's arithmetic (issue 19): an expression evaluator on
//! exact decimals ([`rust_decimal`], 28 significant digits, so 0,1 + 0,2 is
//! 0,3 and not 0.30000000000000004), pure (no I/O, no state).
//!
//! Grammar, from low to high precedence:
//! - `+` `−` (a percent term after them takes a share of the left side:
//!   `200 + 10%` is 220, as on a pocket calculator);
//! - `*` `/` (also `×` `÷`), and implicit multiplication before `(`, a
//!   function or a constant (`2π`, `3(4+1)`);
//! - unary minus and plus (`-2^2` is −4, as in mathematics);
//! - `^` (right-associative: `2^3^2` is 2^9);
//! - postfix `%` (÷ 100) and `²`;
//! - numbers (`,` or `.` as the decimal sign), `( … )`, constants `π`/`pi`
//!   and `e`, and the scientific functions `sqrt`/`√`, `sin`, `cos`, `tan`
//!   (degrees or radians), `ln`, `log` (base 10).
//!
//! A basic calculator refuses `^`, `²`, the functions and the constants:
//! which one a student has is not for the expression to decide
//! ([`super::CalculatorKind`]).

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Significant digits the display shows (a result is kept exact; only the
/// shown form is rounded: 1/3 shows as 0,333333333333).
pub const DISPLAY_DIGITS: u32 = 12;
/// Longest expression accepted, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 256;
/// Deepest nesting of parentheses and functions.
const MAX_DEPTH: usize = 64;

/// Which calculator a student has for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalculatorKind {
    /// The four operations, parentheses and percent.
    Basic,
    /// Basic plus powers, roots, trigonometry, logarithms, π and e.
    Scientific,
}

impl CalculatorKind {
    /// The kind a QTI `qti-calculator-type` asks for: `basic`/`simple`/
    /// `standard` are basic; `scientific` is scientific, and so is
    /// `graphing` (the kiosk has no graphing calculator: the scientific one
    /// is the closest it offers). Anything else: `None` (not understood).
    pub fn from_qti(kind: &str) -> Option<Self> {
        match kind.trim().to_ascii_lowercase().as_str() {
            "basic" | "simple" | "standard" | "" => Some(Self::Basic),
            "scientific" | "graphing" => Some(Self::Scientific),
            _ => None,
        }
    }
}

/// How `sin`, `cos` and `tan` read their argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AngleUnit {
    /// Degrees (the default: what Dutch secondary schools use).
    #[default]
    Degrees,
    /// Radians.
    Radians,
}

/// A calculation that cannot be done: a Dutch message for the student and
/// the (0-based) character position it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalcError {
    /// Character position in the expression (0-based).
    pub position: usize,
    /// What is wrong, in Dutch.
    pub message: String,
}

impl fmt::Display for CalcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (bij teken {})", self.message, self.position + 1)
    }
}

impl std::error::Error for CalcError {}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, CalcError> {
    Err(CalcError { position, message: message.into() })
}

/// A computed result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalcResult {
    /// The exact value, `.` as the decimal sign, no trailing zeros (for the
    /// memory and the next calculation).
    pub value: String,
    /// As the display shows it: at most [`DISPLAY_DIGITS`] significant
    /// digits, decimal comma (`0,333333333333`).
    pub display: String,
}

/// Evaluates `expression` on a calculator of `kind`.
pub fn evaluate(expression: &str, kind: CalculatorKind, angle: AngleUnit) -> Result<CalcResult, CalcError> {
    let value = evaluate_decimal(expression, kind, angle)?;
    Ok(CalcResult { value: value.normalize().to_string(), display: display(value) })
}

/// Evaluates `expression` to its exact value.
pub fn evaluate_decimal(expression: &str, kind: CalculatorKind, angle: AngleUnit) -> Result<Decimal, CalcError> {
    let chars = expression.chars().count();
    if chars > MAX_EXPRESSION_CHARS {
        return err(MAX_EXPRESSION_CHARS, format!("Te lange berekening (hoogstens {MAX_EXPRESSION_CHARS} tekens)"));
    }
    let tokens = tokenize(expression, kind)?;
    if tokens.is_empty() {
        return err(0, "Onvolledige berekening: er staat nog niets");
    }
    let mut parser = Parser { tokens, pos: 0, end: chars, angle, depth: 0 };
    let value = parser.sum()?;
    if let Some(t) = parser.tokens.get(parser.pos) {
        return match t.tok {
            Tok::Close => err(t.at, "Haakje sluiten zonder haakje openen"),
            _ => err(t.at, "Hier verwachtte de rekenmachine een bewerking (+, −, ×, ÷)"),
        };
    }
    Ok(value)
}

/// The display's form of `value`: rounded to [`DISPLAY_DIGITS`] significant
/// digits, no trailing zeros, decimal comma.
pub fn display(value: Decimal) -> String {
    let rounded = value.round_sf(DISPLAY_DIGITS).unwrap_or(value).normalize();
    let text = rounded.to_string().replace('.', ",");
    if text == "-0" {
        "0".to_owned()
    } else {
        text.replace('-', "−")
    }
}

// ---------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Sqrt,
    Sin,
    Cos,
    Tan,
    Ln,
    Log,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Decimal),
    Plus,
    Minus,
    Times,
    Divide,
    Power,
    Percent,
    Squared,
    Open,
    Close,
    Func(Func),
    Pi,
    E,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
}

const SCIENTIFIC_ONLY: &str = "Deze functie zit niet op de basisrekenmachine";

fn tokenize(expression: &str, kind: CalculatorKind) -> Result<Vec<Token>, CalcError> {
    let chars: Vec<char> = expression.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        let simple = match c {
            ' ' | '\t' | '\u{a0}' => {
                i += 1;
                continue;
            }
            '+' => Some(Tok::Plus),
            '-' | '−' | '–' => Some(Tok::Minus),
            '*' | '×' | '·' => Some(Tok::Times),
            '/' | '÷' | ':' => Some(Tok::Divide),
            '^' => Some(Tok::Power),
            '%' => Some(Tok::Percent),
            '²' => Some(Tok::Squared),
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            'π' => Some(Tok::Pi),
            '√' => Some(Tok::Func(Func::Sqrt)),
            _ => None,
        };
        if let Some(tok) = simple {
            if kind == CalculatorKind::Basic && matches!(tok, Tok::Power | Tok::Squared | Tok::Pi | Tok::Func(_)) {
                return err(at, SCIENTIFIC_ONLY);
            }
            out.push(Token { tok, at });
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || c == ',' || c == '.' {
            let start = i;
            let mut text = String::new();
            let mut separators = 0;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',' || chars[i] == '.') {
                if chars[i] == ',' || chars[i] == '.' {
                    separators += 1;
                    if separators > 1 {
                        return err(i, "Een getal heeft maar één komma");
                    }
                    text.push('.');
                } else {
                    text.push(chars[i]);
                }
                i += 1;
            }
            if text == "." {
                return err(start, "Een komma zonder cijfers");
            }
            let text = if text.starts_with('.') { format!("0{text}") } else { text };
            let text = text.strip_suffix('.').unwrap_or(&text);
            let n = Decimal::from_str_exact(text).or_else(|_| text.parse::<Decimal>());
            match n {
                Ok(n) => out.push(Token { tok: Tok::Num(n), at: start }),
                Err(_) => return err(start, "Dit getal is te groot of heeft te veel cijfers"),
            }
            continue;
        }
        if c.is_alphabetic() {
            let start = i;
            let mut word = String::new();
            while i < chars.len() && chars[i].is_alphabetic() {
                word.extend(chars[i].to_lowercase());
                i += 1;
            }
            let tok = match word.as_str() {
                "sqrt" | "wortel" => Tok::Func(Func::Sqrt),
                "sin" => Tok::Func(Func::Sin),
                "cos" => Tok::Func(Func::Cos),
                "tan" => Tok::Func(Func::Tan),
                "ln" => Tok::Func(Func::Ln),
                "log" => Tok::Func(Func::Log),
                "pi" => Tok::Pi,
                "e" => Tok::E,
                _ => return err(start, format!("Onbekende functie \u{201c}{word}\u{201d}")),
            };
            if kind == CalculatorKind::Basic {
                return err(start, SCIENTIFIC_ONLY);
            }
            out.push(Token { tok, at: start });
            continue;
        }
        return err(at, format!("Onbekend teken \u{201c}{c}\u{201d}"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Parser and evaluation (one pass: recursive descent computes as it parses)

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Position of the end (for "incomplete" errors).
    end: usize,
    angle: AngleUnit,
    depth: usize,
}

const INCOMPLETE: &str = "Onvolledige berekening";
const TOO_LARGE: &str = "De uitkomst is te groot voor de rekenmachine";

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.at)
    }

    /// `term (('+' | '-') term)*`
    fn sum(&mut self) -> Result<Decimal, CalcError> {
        let (mut acc, _) = self.product()?;
        loop {
            let plus = match self.peek() {
                Some(Tok::Plus) => true,
                Some(Tok::Minus) => false,
                _ => return Ok(acc),
            };
            let at = self.here();
            self.pos += 1;
            let (rhs, percent) = self.product()?;
            // `a + b%`: b percent of a.
            let rhs = if percent { acc.checked_mul(rhs).ok_or_else(|| too_large(at))? } else { rhs };
            acc = if plus { acc.checked_add(rhs) } else { acc.checked_sub(rhs) }.ok_or_else(|| too_large(at))?;
        }
    }

    /// `unary (('*' | '/' | implicit) unary)*`; also says whether the term
    /// is a single percentage.
    fn product(&mut self) -> Result<(Decimal, bool), CalcError> {
        let (mut acc, mut percent) = self.unary()?;
        loop {
            let at = self.here();
            let divide = match self.peek() {
                Some(Tok::Times) => {
                    self.pos += 1;
                    false
                }
                Some(Tok::Divide) => {
                    self.pos += 1;
                    true
                }
                // Implicit multiplication: `2π`, `3(4+1)`, `2sin(30)`.
                Some(Tok::Open | Tok::Func(_) | Tok::Pi | Tok::E) => false,
                _ => return Ok((acc, percent)),
            };
            let (rhs, _) = self.unary()?;
            percent = false;
            acc = if divide {
                if rhs.is_zero() {
                    return err(at, "Delen door nul kan niet");
                }
                acc.checked_div(rhs)
            } else {
                acc.checked_mul(rhs)
            }
            .ok_or_else(|| too_large(at))?;
        }
    }

    /// `('-' | '+') unary | power`
    fn unary(&mut self) -> Result<(Decimal, bool), CalcError> {
        match self.peek() {
            Some(Tok::Minus) => {
                self.pos += 1;
                let (v, p) = self.nested(Self::unary)?;
                Ok((-v, p))
            }
            Some(Tok::Plus) => {
                self.pos += 1;
                self.nested(Self::unary)
            }
            _ => self.power(),
        }
    }

    /// `postfix ('^' unary)?` (right-associative; `2^-1` allowed)
    fn power(&mut self) -> Result<(Decimal, bool), CalcError> {
        let (base, percent) = self.postfix()?;
        if self.peek() != Some(&Tok::Power) {
            return Ok((base, percent));
        }
        let at = self.here();
        self.pos += 1;
        let (exponent, _) = self.nested(Self::unary)?;
        Ok((pow(base, exponent, at)?, false))
    }

    /// `primary ('%' | '²')*`
    fn postfix(&mut self) -> Result<(Decimal, bool), CalcError> {
        let mut v = self.primary()?;
        let mut percent = false;
        loop {
            let at = self.here();
            match self.peek() {
                Some(Tok::Percent) => {
                    v /= Decimal::ONE_HUNDRED;
                    percent = true;
                }
                Some(Tok::Squared) => {
                    v = v.checked_mul(v).ok_or_else(|| too_large(at))?;
                    percent = false;
                }
                _ => return Ok((v, percent)),
            }
            self.pos += 1;
        }
    }

    fn primary(&mut self) -> Result<Decimal, CalcError> {
        let at = self.here();
        let Some(tok) = self.peek().cloned() else {
            return err(at, INCOMPLETE);
        };
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(n),
            Tok::Pi => Ok(Decimal::PI),
            Tok::E => Ok(Decimal::E),
            Tok::Open => {
                let v = self.nested(Self::sum)?;
                if self.peek() != Some(&Tok::Close) {
                    return err(self.here(), "Onvolledige berekening: er ontbreekt een haakje sluiten");
                }
                self.pos += 1;
                Ok(v)
            }
            Tok::Func(f) => {
                // `sin 30` and `sin(30)` alike; `sin 30^2` is sin(900).
                let (x, _) = self.nested(Self::unary)?;
                apply(f, x, self.angle, at)
            }
            Tok::Close => err(at, "Haakje sluiten zonder getal ervoor"),
            Tok::Plus | Tok::Minus | Tok::Times | Tok::Divide | Tok::Power | Tok::Percent | Tok::Squared => {
                err(at, "Onvolledige berekening: hier hoort een getal")
            }
        }
    }

    fn nested<T>(&mut self, f: fn(&mut Self) -> Result<T, CalcError>) -> Result<T, CalcError> {
        if self.depth >= MAX_DEPTH {
            return err(self.here(), "Te veel haakjes of functies in elkaar");
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }
}

fn too_large(at: usize) -> CalcError {
    CalcError { position: at, message: TOO_LARGE.to_owned() }
}

fn pow(base: Decimal, exponent: Decimal, at: usize) -> Result<Decimal, CalcError> {
    let integral = exponent.fract().is_zero();
    if base.is_zero() && exponent.is_sign_negative() && !exponent.is_zero() {
        return err(at, "Delen door nul kan niet");
    }
    if base.is_sign_negative() && !base.is_zero() && !integral {
        return err(at, "Een negatief getal tot een gebroken macht kan niet");
    }
    if integral {
        let Some(e) = exponent.to_i64() else {
            return Err(too_large(at));
        };
        return base.checked_powi(e).ok_or_else(|| too_large(at));
    }
    base.checked_powd(exponent).ok_or_else(|| too_large(at))
}

fn apply(f: Func, x: Decimal, angle: AngleUnit, at: usize) -> Result<Decimal, CalcError> {
    match f {
        Func::Sqrt => {
            if x.is_sign_negative() && !x.is_zero() {
                return err(at, "De wortel van een negatief getal kan niet");
            }
            square_root(x).ok_or_else(|| too_large(at))
        }
        Func::Ln | Func::Log => {
            if x.is_sign_negative() || x.is_zero() {
                return err(at, "Een logaritme bestaat alleen van een getal groter dan nul");
            }
            if f == Func::Ln { x.checked_ln() } else { x.checked_log10() }.ok_or_else(|| too_large(at))
        }
        Func::Sin | Func::Cos | Func::Tan => trig(f, x, angle, at),
    }
}

/// The square root of `x` (not negative) by Newton's method from the
/// binary root, at most 64 steps. Not `Decimal::sqrt`: rust_decimal 1.43
/// asserts (panics) when its iteration flips between two 28-digit values
/// (paupino/rust-decimal#721, e.g. √4,0000000000000000000000000003) — in
/// the kiosk, with its state locked. Here such a flip ends the loop: both
/// values are the root to the last digit.
fn square_root(x: Decimal) -> Option<Decimal> {
    if x.is_zero() {
        return Some(Decimal::ZERO);
    }
    let two = Decimal::TWO;
    let mut r = Decimal::from_f64(x.to_f64()?.sqrt()).filter(|r| !r.is_zero()).unwrap_or(x);
    for _ in 0..64 {
        let next = r.checked_add(x.checked_div(r)?)?.checked_div(two)?;
        if next == r {
            break;
        }
        r = next;
    }
    Some(r.normalize())
}

/// Sine, cosine, tangent; in degrees, the angles whose value is a short
/// decimal (multiples of 30° and 45°) are exact: cos 90° is 0, not 1e-28.
fn trig(f: Func, x: Decimal, angle: AngleUnit, at: usize) -> Result<Decimal, CalcError> {
    if angle == AngleUnit::Degrees {
        let full = Decimal::from(360);
        let d = x % full;
        let d = if d.is_sign_negative() { d + full } else { d };
        // sin of d, for d a multiple of 30, exact where exact is 0, ±½, ±1.
        let exact_sin = |d: Decimal| -> Option<Decimal> {
            let half = Decimal::new(5, 1);
            Some(match d.normalize().to_string().as_str() {
                "0" | "180" => Decimal::ZERO,
                "30" | "150" => half,
                "90" => Decimal::ONE,
                "210" | "330" => -half,
                "270" => Decimal::NEGATIVE_ONE,
                _ => return None,
            })
        };
        let shifted = (d + Decimal::from(90)) % full;
        match f {
            Func::Sin => {
                if let Some(v) = exact_sin(d) {
                    return Ok(v);
                }
            }
            Func::Cos => {
                if let Some(v) = exact_sin(shifted) {
                    return Ok(v);
                }
            }
            Func::Tan => {
                let m = d % Decimal::from(180);
                match m.normalize().to_string().as_str() {
                    "0" => return Ok(Decimal::ZERO),
                    "45" => return Ok(Decimal::ONE),
                    "135" => return Ok(Decimal::NEGATIVE_ONE),
                    "90" => return err(at, "De tangens van 90° bestaat niet"),
                    _ => {}
                }
            }
            _ => {}
        }
        let radians = d.checked_mul(Decimal::PI).and_then(|r| r.checked_div(Decimal::from(180))).ok_or_else(|| too_large(at))?;
        return trig(f, radians, AngleUnit::Radians, at);
    }
    // Reduce first: the series converge fast near zero.
    let x = x % Decimal::TWO_PI;
    let v = match f {
        Func::Sin => x.checked_sin(),
        Func::Cos => x.checked_cos(),
        _ => {
            let cos = x.checked_cos().ok_or_else(|| too_large(at))?;
            if cos.abs() < Decimal::new(1, 20) {
                return err(at, "Deze tangens bestaat niet");
            }
            x.checked_sin().and_then(|s| s.checked_div(cos))
        }
    };
    v.ok_or_else(|| too_large(at))
}

#[cfg(test)]
mod tests;
