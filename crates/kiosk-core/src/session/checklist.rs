//! Startup as a readable checklist of revertible steps, in the manner of
//! Safe Exam Browser's Perform/Revert operations: steps run in order; each
//! returns how to undo what it did; on a failure the applied steps are
//! undone in reverse order and the reason is reported; on exit — clean or
//! through a panic unwinding the stack — the same happens, so the machine is
//! left as it was.

use serde::Serialize;

/// Undoes what one step did.
pub type Revert = Box<dyn FnOnce() -> Result<(), String> + Send + Sync>;

/// One startup step over a context `C` (what the kiosk builds up as it starts).
pub struct Step<C> {
    name: &'static str,
    apply: Box<dyn FnOnce(&mut C) -> Result<Option<Revert>, String>>,
}

impl<C> Step<C> {
    /// A step named `name` (shown to the student and journalled) that runs
    /// `apply` and returns its revert action, if it changed anything.
    pub fn new(name: &'static str, apply: impl FnOnce(&mut C) -> Result<Option<Revert>, String> + 'static) -> Self {
        Self { name, apply: Box::new(apply) }
    }
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum StepEvent {
    /// The step is starting.
    Started {
        /// Step name.
        step: String,
    },
    /// The step is done.
    Applied {
        /// Step name.
        step: String,
    },
    /// The step failed.
    Failed {
        /// Step name.
        step: String,
        /// Why.
        reason: String,
    },
    /// The step's change was undone (or undoing failed).
    Reverted {
        /// Step name.
        step: String,
        /// `None` when undone, else why undoing failed.
        error: Option<String>,
    },
}

/// A startup that failed: the failing step, why, and what was undone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("startup step '{step}' failed: {reason}")]
pub struct StartupFailure {
    /// The failing step.
    pub step: String,
    /// Why it failed.
    pub reason: String,
    /// The undo results of the steps applied before it, in the order undone.
    pub reverted: Vec<StepEvent>,
}

/// The steps in order.
pub struct Checklist<C> {
    steps: Vec<Step<C>>,
}

impl<C> Default for Checklist<C> {
    fn default() -> Self {
        Self { steps: Vec::new() }
    }
}

impl<C> Checklist<C> {
    /// An empty checklist.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a step at the end.
    pub fn step(mut self, step: Step<C>) -> Self {
        self.steps.push(step);
        self
    }

    /// Names of the steps, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.steps.iter().map(|s| s.name).collect()
    }

    /// Runs every step; on failure undoes the applied ones in reverse order.
    /// `observe` sees every event (for the journal and the boot screen).
    pub fn run(self, context: &mut C, mut observe: impl FnMut(&StepEvent)) -> Result<Applied, StartupFailure> {
        let mut applied = Applied { reverts: Vec::new() };
        for step in self.steps {
            observe(&StepEvent::Started { step: step.name.into() });
            match (step.apply)(context) {
                Ok(revert) => {
                    observe(&StepEvent::Applied { step: step.name.into() });
                    if let Some(revert) = revert {
                        applied.reverts.push((step.name, revert));
                    }
                }
                Err(reason) => {
                    observe(&StepEvent::Failed { step: step.name.into(), reason: reason.clone() });
                    let reverted = applied.unwind();
                    reverted.iter().for_each(&mut observe);
                    return Err(StartupFailure { step: step.name.into(), reason, reverted });
                }
            }
        }
        Ok(applied)
    }
}

/// The applied steps; dropping it undoes them in reverse order.
pub struct Applied {
    reverts: Vec<(&'static str, Revert)>,
}

impl Applied {
    /// Undoes every applied step, last first; returns what happened.
    pub fn unwind(&mut self) -> Vec<StepEvent> {
        let mut events = Vec::new();
        while let Some((name, revert)) = self.reverts.pop() {
            let error = revert().err();
            events.push(StepEvent::Reverted { step: name.into(), error });
        }
        events
    }

    /// Number of steps that will be undone.
    pub fn len(&self) -> usize {
        self.reverts.len()
    }

    /// True when nothing needs undoing.
    pub fn is_empty(&self) -> bool {
        self.reverts.is_empty()
    }
}

impl Drop for Applied {
    fn drop(&mut self) {
        self.unwind();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    type Log = Arc<Mutex<Vec<String>>>;

    fn step(name: &'static str, log: &Log, fail: bool) -> Step<u32> {
        let log = log.clone();
        Step::new(name, move |count: &mut u32| {
            *count += 1;
            if fail {
                return Err(format!("{name} is broken"));
            }
            log.lock().unwrap().push(format!("apply {name}"));
            let log = log.clone();
            Ok(Some(Box::new(move || {
                log.lock().unwrap().push(format!("revert {name}"));
                Ok(())
            }) as Revert))
        })
    }

    #[test]
    fn a_failure_unwinds_in_reverse_order() {
        let log: Log = Default::default();
        let checklist = Checklist::new()
            .step(step("policy", &log, false))
            .step(step("journal", &log, false))
            .step(step("lockdown", &log, false))
            .step(step("location", &log, true))
            .step(step("hub", &log, false));
        let mut count = 0;
        let mut events = Vec::new();
        let failure = checklist.run(&mut count, |e| events.push(e.clone())).err().unwrap();
        assert_eq!(failure.step, "location");
        assert_eq!(count, 4, "steps after the failing one never run");
        assert_eq!(
            *log.lock().unwrap(),
            ["apply policy", "apply journal", "apply lockdown", "revert lockdown", "revert journal", "revert policy"]
        );
        assert_eq!(failure.reverted.len(), 3);
        assert!(events.iter().any(|e| matches!(e, StepEvent::Failed { step, .. } if step == "location")));
    }

    #[test]
    fn dropping_the_applied_steps_reverts_them_even_in_a_panic() {
        let log: Log = Default::default();
        let result = std::panic::catch_unwind({
            let log = log.clone();
            move || {
                let mut count = 0;
                let _applied = Checklist::new().step(step("a", &log, false)).step(step("b", &log, false)).run(&mut count, |_| {});
                panic!("the kiosk crashed");
            }
        });
        assert!(result.is_err());
        assert_eq!(*log.lock().unwrap(), ["apply a", "apply b", "revert b", "revert a"]);
    }

    #[test]
    fn failing_reverts_are_reported_not_hidden() {
        let failing: Step<u32> = Step::new("stubborn", |_| Ok(Some(Box::new(|| Err("still changed".into())) as Revert)));
        let mut count = 0;
        let mut applied = Checklist::new().step(failing).run(&mut count, |_| {}).ok().unwrap();
        let events = applied.unwind();
        assert_eq!(events, [StepEvent::Reverted { step: "stubborn".into(), error: Some("still changed".into()) }]);
        assert!(applied.is_empty());
    }
}
