//! Statements on console_sittings, console_seats, console_moves, console_room_codes.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
