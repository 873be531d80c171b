//! Exam policy model (see issue 3).
