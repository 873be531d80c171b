use super::*;
use proptest::prelude::*;
use rust_decimal::prelude::FromPrimitive;

const B: CalculatorKind = CalculatorKind::Basic;
const S: CalculatorKind = CalculatorKind::Scientific;
const DEG: AngleUnit = AngleUnit::Degrees;
const RAD: AngleUnit = AngleUnit::Radians;

fn show(expr: &str, kind: CalculatorKind, angle: AngleUnit) -> String {
    match evaluate(expr, kind, angle) {
        Ok(r) => r.display,
        Err(e) => format!("ERR {e}"),
    }
}

#[test]
fn decimal_arithmetic_is_exact() {
    let r = evaluate("0.1 + 0.2", B, DEG).unwrap();
    assert_eq!(r.value, "0.3");
    assert_eq!(r.display, "0,3");
    assert_eq!(evaluate_decimal("0,1+0,2-0,3", B, DEG).unwrap(), Decimal::ZERO);
    assert_eq!(evaluate("1.1*1.1", B, DEG).unwrap().value, "1.21");
}

#[test]
fn basic_table() {
    let table: &[(&str, &str)] = &[
        ("1+2*3", "7"),
        ("(1+2)*3", "9"),
        ("10-4-3", "3"),
        ("100/4/5", "5"),
        ("-3+5", "2"),
        ("--3", "3"),
        ("2*-3", "−6"),
        ("7 ÷ 2", "3,5"),
        ("3 × 4", "12"),
        ("5 − 8", "−3"),
        ("1/3", "0,333333333333"),
        ("2/3", "0,666666666667"),
        ("1/3*3", "1"),
        ("50%", "0,5"),
        ("200+10%", "220"),
        ("200-10%", "180"),
        ("200*10%", "20"),
        ("3(4+1)", "15"),
        ("12,5 + ,5", "13"),
        ("4.", "4"),
        ("((2))", "2"),
        ("1 000", "ERR Hier verwachtte de rekenmachine een bewerking (+, −, ×, ÷) (bij teken 3)"),
        ("0", "0"),
        ("-0", "0"),
    ];
    for (expr, want) in table {
        assert_eq!(show(expr, B, DEG), *want, "{expr}");
    }
}

#[test]
fn scientific_table() {
    let table: &[(&str, AngleUnit, &str)] = &[
        ("2^10", DEG, "1024"),
        ("2^3^2", DEG, "512"),
        ("-2^2", DEG, "−4"),
        ("(-2)^2", DEG, "4"),
        ("2^-1", DEG, "0,5"),
        ("3²", DEG, "9"),
        ("3²+4²", DEG, "25"),
        ("sqrt(16)", DEG, "4"),
        ("√2", DEG, "1,41421356237"),
        // rust_decimal's own sqrt panicked on these (paupino/rust-decimal#721).
        ("√4,0000000000000000000000000003", DEG, "2"),
        ("√400,00000000000000000000000003", DEG, "20"),
        ("√((2/3)*6)", DEG, "2"),
        ("√0,09", DEG, "0,3"),
        ("√0", DEG, "0"),
        ("1/(4)", DEG, "0,25"),
        ("sin(30)", DEG, "0,5"),
        ("sin 30", DEG, "0,5"),
        ("cos(60)", DEG, "0,5"),
        ("cos(90)", DEG, "0"),
        ("sin(-90)", DEG, "−1"),
        ("tan(45)", DEG, "1"),
        ("tan(225)", DEG, "1"),
        ("sin(45)", DEG, "0,707106781187"),
        ("sin(pi/6)", RAD, "0,5"),
        ("cos(π)", RAD, "−1"),
        ("tan(0)", RAD, "0"),
        ("ln(e)", DEG, "1"),
        ("ln(1)", DEG, "0"),
        ("log(1000)", DEG, "3"),
        ("π", DEG, "3,14159265359"),
        ("2π", DEG, "6,28318530718"),
        ("e", DEG, "2,71828182846"),
        ("2^0.5", DEG, "1,41421356237"),
        ("8^(1/3)", DEG, "2"),
        ("10^20", DEG, "100000000000000000000"),
    ];
    for (expr, angle, want) in table {
        assert_eq!(show(expr, S, *angle), *want, "{expr} ({angle:?})");
    }
}

#[test]
fn errors_are_dutch_with_a_position() {
    let table: &[(&str, CalculatorKind, usize, &str)] = &[
        ("1/0", B, 1, "Delen door nul kan niet"),
        ("5/(2-2)", B, 1, "Delen door nul kan niet"),
        ("1+", B, 2, "Onvolledige berekening"),
        ("", B, 0, "Onvolledige berekening: er staat nog niets"),
        ("(1+2", B, 4, "Onvolledige berekening: er ontbreekt een haakje sluiten"),
        ("1+2)", B, 3, "Haakje sluiten zonder haakje openen"),
        ("2*/3", B, 2, "Onvolledige berekening: hier hoort een getal"),
        ("1,2,3", B, 3, "Een getal heeft maar één komma"),
        ("2^3", B, 1, SCIENTIFIC_ONLY),
        ("sqrt(4)", B, 0, SCIENTIFIC_ONLY),
        ("1+pi", B, 2, SCIENTIFIC_ONLY),
        ("3²", B, 1, SCIENTIFIC_ONLY),
        ("2#3", B, 1, "Onbekend teken \u{201c}#\u{201d}"),
        ("foo(2)", S, 0, "Onbekende functie \u{201c}foo\u{201d}"),
        ("sqrt(-4)", S, 0, "De wortel van een negatief getal kan niet"),
        ("ln(0)", S, 0, "Een logaritme bestaat alleen van een getal groter dan nul"),
        ("log(-1)", S, 0, "Een logaritme bestaat alleen van een getal groter dan nul"),
        ("tan(90)", S, 0, "De tangens van 90° bestaat niet"),
        ("tan(-270)", S, 0, "De tangens van 90° bestaat niet"),
        ("0^-1", S, 1, "Delen door nul kan niet"),
        ("(-8)^0.5", S, 4, "Een negatief getal tot een gebroken macht kan niet"),
        ("10^40", S, 2, TOO_LARGE),
        ("99999999999999999999*99999999999999999999", B, 20, TOO_LARGE),
    ];
    for (expr, kind, position, message) in table {
        let e = evaluate(expr, *kind, DEG).expect_err(expr);
        assert_eq!((e.position, e.message.as_str()), (*position, *message), "{expr}");
    }
    assert_eq!(evaluate("1/0", B, DEG).unwrap_err().to_string(), "Delen door nul kan niet (bij teken 2)");
}

#[test]
fn limits_hold() {
    let long = "1+".repeat(MAX_EXPRESSION_CHARS);
    assert!(evaluate(&long, B, DEG).unwrap_err().message.starts_with("Te lange berekening"));
    let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(evaluate(&deep, B, DEG).unwrap_err().message, "Te veel haakjes of functies in elkaar");
    let minus = format!("{}1", "-".repeat(200));
    assert_eq!(evaluate(&minus, B, DEG).unwrap_err().message, "Te veel haakjes of functies in elkaar");
    let ok = format!("{}1{}", "(".repeat(30), ")".repeat(30));
    assert_eq!(show(&ok, B, DEG), "1");
}

#[test]
fn kinds_from_qti() {
    for (qti, want) in [
        ("basic", Some(B)),
        ("simple", Some(B)),
        ("Standard", Some(B)),
        ("scientific", Some(S)),
        ("graphing", Some(S)),
        ("", Some(B)),
        ("quantum", None),
    ] {
        assert_eq!(CalculatorKind::from_qti(qti), want, "{qti}");
    }
    assert!(S > B);
}

proptest! {
    /// Sums and differences of two-decimal amounts are exact (never a
    /// binary-float remainder).
    #[test]
    fn cents_add_exactly(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000) {
        let expr = format!("{} + {}", Decimal::new(a, 2), Decimal::new(b, 2));
        let got = evaluate_decimal(&expr, B, DEG).unwrap();
        prop_assert_eq!(got, Decimal::new(a + b, 2));
    }

    /// Precedence matches the integer arithmetic of the same expression.
    #[test]
    fn precedence_matches_integers(a in -1000i64..1000, b in -1000i64..1000, c in -1000i64..1000) {
        let expr = format!("{a} + {b} * {c} - ({a} - {c}) * {b}");
        let got = evaluate_decimal(&expr.replace("+ -", "+ -").replace("* -", "* -"), B, DEG).unwrap();
        prop_assert_eq!(got, Decimal::from(a + b * c - (a - c) * b));
    }

    /// Whatever is typed, the evaluator answers (a value or an error), never panics.
    #[test]
    fn never_panics(s in "[0-9.,+*/^%()²√πe -]{0,40}|(sin|cos|tan|ln|log|sqrt|[0-9]|[-+*/^()])*") {
        let _ = evaluate(&s, S, DEG);
        let _ = evaluate(&s, S, RAD);
        let _ = evaluate(&s, B, DEG);
    }

    /// x / y * y gives x back to the display's digits.
    #[test]
    fn division_round_trips_on_the_display(x in 1i64..1_000_000, y in 1i64..1000) {
        let got = evaluate(&format!("{x}/{y}*{y}"), B, DEG).unwrap();
        prop_assert_eq!(got.display, x.to_string());
        let _ = Decimal::from_i64(x);
    }
}
