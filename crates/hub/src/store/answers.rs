//! Statements on answers, answer_changes, superseded_answers, hand_scores.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
