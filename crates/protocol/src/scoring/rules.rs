//! QTI 3 item response processing as typed data: outcome declarations, the
//! response rules and their expressions. The importer (exam-instrument's
//! `qti_scoring`) reads them from an item; [`super::evaluate`] runs them.
//! Serialised in the scoring JSON the hub gets (`{"op": "match", ...}`).

use super::Cardinality;
use serde::{Deserialize, Serialize};

/// `qti-outcome-declaration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeDeclaration {
    /// Identifier, e.g. `SCORE`.
    pub identifier: String,
    /// Cardinality.
    pub cardinality: Cardinality,
    /// Base type (`float`, `integer`, `identifier`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_type: Option<String>,
    /// The default value's values (`qti-default-value`); none: NULL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default: Vec<String>,
    /// `normal-maximum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal_maximum: Option<f64>,
    /// `normal-minimum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal_minimum: Option<f64>,
    /// `external-scored` (`human`, `externalMachine`): a person (or another
    /// system) sets this outcome, not the response processing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_scored: Option<String>,
    /// `qti-interpolation-table` / `qti-match-table`, for
    /// `qti-lookup-outcome-value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<LookupTable>,
}

/// A lookup table of an outcome declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LookupTable {
    /// `qti-match-table`: an integer source value maps to a target value.
    Match {
        /// Value when no entry matches.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// (source value, target value).
        entries: Vec<(i64, String)>,
    },
    /// `qti-interpolation-table`: the first entry whose source value is
    /// below the value (or equal, when `include_boundary`) gives the target.
    Interpolation {
        /// Value when no entry matches.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// (source value, include boundary, target value), in document order.
        entries: Vec<(f64, bool, String)>,
    },
}

/// `qti-area-mapping` (for `qti-map-response-point`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaMapping {
    /// Value when a point is in no area.
    pub default_value: f64,
    /// Lower bound of the sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower_bound: Option<f64>,
    /// Upper bound of the sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper_bound: Option<f64>,
    /// Entries, in document order (the first area a point is in counts).
    pub entries: Vec<AreaMapEntry>,
}

/// `qti-area-map-entry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaMapEntry {
    /// The area.
    pub area: Area,
    /// Mapped value.
    pub value: f64,
}

/// A shape with its coordinates (QTI `shape` + `coords`, as in HTML image maps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    /// `circle`, `rect`, `poly`, `ellipse` or `default`.
    pub shape: Shape,
    /// Coordinates.
    #[serde(default)]
    pub coords: Vec<f64>,
}

/// QTI shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// `x y r`.
    Circle,
    /// `left top right bottom`.
    Rect,
    /// `x1 y1 x2 y2 ...`.
    Poly,
    /// `x y rx ry`.
    Ellipse,
    /// Everywhere.
    Default,
}

/// A response rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Rule {
    /// `qti-response-condition`: the first branch whose condition is true runs.
    Condition {
        /// `qti-response-if` and the `qti-response-else-if`s, in order.
        branches: Vec<Branch>,
        /// `qti-response-else`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        otherwise: Vec<Rule>,
    },
    /// `qti-set-outcome-value`.
    SetOutcome {
        /// The outcome.
        identifier: String,
        /// Its new value.
        value: Expr,
    },
    /// `qti-lookup-outcome-value`: the outcome's lookup table applied to the value.
    LookupOutcome {
        /// The outcome.
        identifier: String,
        /// The source value.
        value: Expr,
    },
    /// `qti-exit-response`: processing stops here.
    Exit,
    /// `qti-response-processing-fragment`: its rules, in order.
    Fragment {
        /// The rules.
        rules: Vec<Rule>,
    },
}

/// One `qti-response-if` / `qti-response-else-if`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// The condition (true runs the rules; false and NULL do not).
    pub when: Expr,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// `tolerance-mode` of `qti-equal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ToleranceMode {
    /// Exactly equal.
    #[default]
    Exact,
    /// Within an absolute distance.
    Absolute,
    /// Within a percentage.
    Relative,
}

/// `rounding-mode` of `qti-equal-rounded` and `qti-round-to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RoundingMode {
    /// Significant figures.
    #[default]
    SignificantFigures,
    /// Decimal places.
    DecimalPlaces,
}

/// Which items of the test an expression of test outcome processing reads:
/// those with one of the `include` categories (all when empty) and none of
/// the `exclude` categories (`include-category`, `exclude-category`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSelection {
    /// `include-category`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// `exclude-category`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl ItemSelection {
    /// Whether an item with `categories` is selected.
    pub fn selects(&self, categories: &[String]) -> bool {
        (self.include.is_empty() || self.include.iter().any(|c| categories.contains(c))) && !self.exclude.iter().any(|c| categories.contains(c))
    }

    fn is_all(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// What `qti-number-*` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NumberOf {
    /// `qti-number-selected`: items in the test.
    Selected,
    /// `qti-number-presented`: items shown (the kiosk shows every item).
    Presented,
    /// `qti-number-responded`: items with at least one response.
    Responded,
    /// `qti-number-correct`: items whose every response with a correct
    /// response matches it.
    Correct,
    /// `qti-number-incorrect`: responded items that are not correct.
    Incorrect,
}

/// An expression. Operands are in `args`, in document order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Expr {
    /// `qti-base-value`.
    BaseValue {
        /// Base type.
        base_type: String,
        /// The value as written.
        value: String,
    },
    /// `qti-variable`: a response or outcome variable's value.
    Variable {
        /// Identifier.
        identifier: String,
    },
    /// `qti-correct`: a response's correct value.
    Correct {
        /// Response identifier.
        identifier: String,
    },
    /// `qti-default`: a variable's default value.
    Default {
        /// Identifier.
        identifier: String,
    },
    /// `qti-map-response`.
    MapResponse {
        /// Response identifier.
        identifier: String,
    },
    /// `qti-map-response-point`.
    MapResponsePoint {
        /// Response identifier.
        identifier: String,
    },
    /// `qti-null`.
    Null,
    /// `qti-test-variables` (test outcome processing only): the selected
    /// items' values of one outcome, each times the item's `weight` when
    /// given, as a `multiple` container; items without a value are left out.
    TestVariables {
        /// `variable-identifier`.
        variable: String,
        /// `weight-identifier`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weight: Option<String>,
        /// `base-type`: only values of it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_type: Option<String>,
        /// The items.
        #[serde(default, skip_serializing_if = "ItemSelection::is_all")]
        items: ItemSelection,
    },
    /// `qti-outcome-maximum` / `qti-outcome-minimum` (test outcome
    /// processing only): the selected items' `normal-maximum` (or
    /// `normal-minimum`) of an outcome, weighted; NULL when an item has none.
    OutcomeBound {
        /// `outcome-identifier`.
        outcome: String,
        /// The maximum (else the minimum).
        maximum: bool,
        /// `weight-identifier`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weight: Option<String>,
        /// The items.
        #[serde(default, skip_serializing_if = "ItemSelection::is_all")]
        items: ItemSelection,
    },
    /// `qti-number-*` (test outcome processing only).
    Number {
        /// What is counted.
        of: NumberOf,
        /// The items.
        #[serde(default, skip_serializing_if = "ItemSelection::is_all")]
        items: ItemSelection,
    },
    /// `qti-is-null`.
    IsNull {
        /// One operand.
        args: Vec<Expr>,
    },
    /// `qti-match`.
    Match {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-member`.
    Member {
        /// The value, the container.
        args: Vec<Expr>,
    },
    /// `qti-contains`.
    Contains {
        /// The container, the sub-container.
        args: Vec<Expr>,
    },
    /// `qti-delete`.
    Delete {
        /// The value, the container.
        args: Vec<Expr>,
    },
    /// `qti-equal`.
    Equal {
        /// Tolerance mode.
        #[serde(default)]
        tolerance_mode: ToleranceMode,
        /// One or two tolerances (lower, upper).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tolerance: Vec<f64>,
        /// `include-lower-bound` (default true).
        #[serde(default = "yes")]
        include_lower_bound: bool,
        /// `include-upper-bound` (default true).
        #[serde(default = "yes")]
        include_upper_bound: bool,
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-equal-rounded`.
    EqualRounded {
        /// Rounding mode.
        #[serde(default)]
        rounding_mode: RoundingMode,
        /// Figures.
        figures: i32,
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-lt`.
    Lt {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-gt`.
    Gt {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-lte`.
    Lte {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-gte`.
    Gte {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-and`.
    And {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-or`.
    Or {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-not`.
    Not {
        /// One operand.
        args: Vec<Expr>,
    },
    /// `qti-any-n`.
    AnyN {
        /// Least number true.
        min: usize,
        /// Most number true.
        max: usize,
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-sum`.
    Sum {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-product`.
    Product {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-subtract`.
    Subtract {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-divide`.
    Divide {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-integer-divide`.
    IntegerDivide {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-integer-modulus`.
    IntegerModulus {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-power`.
    Power {
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-round`.
    Round {
        /// One operand.
        args: Vec<Expr>,
    },
    /// `qti-truncate`.
    Truncate {
        /// One operand.
        args: Vec<Expr>,
    },
    /// `qti-round-to`.
    RoundTo {
        /// Rounding mode.
        #[serde(default)]
        rounding_mode: RoundingMode,
        /// Figures.
        figures: i32,
        /// One operand.
        args: Vec<Expr>,
    },
    /// `qti-max`.
    Max {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-min`.
    Min {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-gcd`.
    Gcd {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-lcm`.
    Lcm {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-multiple`.
    Multiple {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-ordered`.
    Ordered {
        /// Operands.
        args: Vec<Expr>,
    },
    /// `qti-container-size`.
    ContainerSize {
        /// One operand.
        args: Vec<Expr>,
    },
    /// `qti-index`.
    Index {
        /// 1-based position.
        n: usize,
        /// One operand.
        args: Vec<Expr>,
    },
    /// `qti-field-value`.
    FieldValue {
        /// The record's field.
        field_identifier: String,
        /// One operand.
        args: Vec<Expr>,
    },
    /// `qti-string-match`.
    StringMatch {
        /// Case-sensitive.
        case_sensitive: bool,
        /// `substring` (deprecated: the first contains the second).
        #[serde(default)]
        substring: bool,
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-substring`: the first is part of the second.
    Substring {
        /// Case-sensitive (default true).
        #[serde(default = "yes")]
        case_sensitive: bool,
        /// Two operands.
        args: Vec<Expr>,
    },
    /// `qti-inside`: a point (or any point of a container) is in the area.
    Inside {
        /// The area.
        area: Area,
        /// One operand.
        args: Vec<Expr>,
    },
}

fn yes() -> bool {
    true
}

impl Expr {
    /// The operands.
    pub fn args(&self) -> &[Expr] {
        match self {
            Expr::BaseValue { .. }
            | Expr::Variable { .. }
            | Expr::Correct { .. }
            | Expr::Default { .. }
            | Expr::MapResponse { .. }
            | Expr::MapResponsePoint { .. }
            | Expr::TestVariables { .. }
            | Expr::OutcomeBound { .. }
            | Expr::Number { .. }
            | Expr::Null => &[],
            Expr::IsNull { args }
            | Expr::Match { args }
            | Expr::Member { args }
            | Expr::Contains { args }
            | Expr::Delete { args }
            | Expr::Equal { args, .. }
            | Expr::EqualRounded { args, .. }
            | Expr::Lt { args }
            | Expr::Gt { args }
            | Expr::Lte { args }
            | Expr::Gte { args }
            | Expr::And { args }
            | Expr::Or { args }
            | Expr::Not { args }
            | Expr::AnyN { args, .. }
            | Expr::Sum { args }
            | Expr::Product { args }
            | Expr::Subtract { args }
            | Expr::Divide { args }
            | Expr::IntegerDivide { args }
            | Expr::IntegerModulus { args }
            | Expr::Power { args }
            | Expr::Round { args }
            | Expr::Truncate { args }
            | Expr::RoundTo { args, .. }
            | Expr::Max { args }
            | Expr::Min { args }
            | Expr::Gcd { args }
            | Expr::Lcm { args }
            | Expr::Multiple { args }
            | Expr::Ordered { args }
            | Expr::ContainerSize { args }
            | Expr::Index { args, .. }
            | Expr::FieldValue { args, .. }
            | Expr::StringMatch { args, .. }
            | Expr::Substring { args, .. }
            | Expr::Inside { args, .. } => args,
        }
    }
}
