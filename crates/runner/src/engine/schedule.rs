//! Learning-rate schedules: linear warm-up, then constant, linear or cosine decay (or T5's
//! inverse square root). Pretraining and fine-tuning use the same [`Schedule`]; a run records its
//! [`ScheduleSpec`] (the peak and the total come from the run).

use serde::{Deserialize, Serialize};

/// What happens after the warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decay {
    /// `peak · sqrt(warmup / step)` (T5's `rsqrt` schedule, with a linear ramp instead of a flat
    /// start).
    InverseSqrt,
    /// Half a cosine from `peak` at the end of warm-up down to `min_lr` at `total_steps`.
    Cosine,
    /// A straight line from `peak` at the end of warm-up down to `min_lr` at `total_steps`.
    Linear,
    /// `peak` forever.
    Constant,
}

/// A learning-rate schedule over 1-based steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub peak: f64,
    pub warmup_steps: usize,
    pub decay: Decay,
    pub total_steps: usize,
    pub min_lr: f64,
}

impl Schedule {
    /// The learning rate of step `step` (1-based): `peak · step / warmup` during the warm-up,
    /// then the decay.
    pub fn lr(&self, step: usize) -> f64 {
        let step = step.max(1);
        if step <= self.warmup_steps {
            return self.peak * step as f64 / self.warmup_steps as f64;
        }
        match self.decay {
            Decay::Constant => self.peak,
            Decay::InverseSqrt => {
                self.peak * (self.warmup_steps.max(1) as f64 / step as f64).sqrt()
            }
            Decay::Linear => {
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let progress = ((step - self.warmup_steps) as f64 / span).min(1.0);
                self.peak + (self.min_lr - self.peak) * progress
            }
            Decay::Cosine => {
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let progress = ((step - self.warmup_steps) as f64 / span).min(1.0);
                self.min_lr
                    + (self.peak - self.min_lr)
                        * 0.5
                        * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

/// A schedule as a run config records it: the shape, without the peak and the length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub decay: Decay,
    pub warmup_steps: usize,
    pub min_lr: f64,
}

impl ScheduleSpec {
    /// Parses `--lr-schedule` (`constant`, `linear`, `cosine`, `inverse_sqrt`).
    pub fn parse(name: &str, warmup_steps: usize, min_lr: f64) -> Result<Self, String> {
        let decay = match name {
            "constant" => Decay::Constant,
            "linear" => Decay::Linear,
            "cosine" => Decay::Cosine,
            "inverse_sqrt" | "inverse-sqrt" => Decay::InverseSqrt,
            other => {
                return Err(format!(
                    "unknown learning-rate schedule {other:?} (constant, linear, cosine, \
                     inverse_sqrt)"
                ));
            }
        };
        if !(min_lr.is_finite() && min_lr >= 0.0) {
            return Err(format!(
                "min_lr must be a non-negative number (got {min_lr})"
            ));
        }
        Ok(ScheduleSpec {
            decay,
            warmup_steps,
            min_lr,
        })
    }

    /// The schedule of a run with this peak learning rate and this many optimizer steps.
    pub fn with(&self, peak: f64, total_steps: usize) -> Schedule {
        Schedule {
            peak,
            warmup_steps: self.warmup_steps,
            decay: self.decay,
            total_steps,
            min_lr: self.min_lr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(decay: Decay) -> Schedule {
        Schedule {
            peak: 1e-3,
            warmup_steps: 10,
            decay,
            total_steps: 110,
            min_lr: 1e-5,
        }
    }

    #[test]
    fn warmup_is_linear() {
        let sc = s(Decay::InverseSqrt);
        assert!((sc.lr(1) - 1e-4).abs() < 1e-15);
        assert!((sc.lr(5) - 5e-4).abs() < 1e-15);
        assert!((sc.lr(10) - 1e-3).abs() < 1e-15);
    }

    #[test]
    fn inverse_sqrt_decay() {
        let sc = s(Decay::InverseSqrt);
        assert!((sc.lr(40) - 5e-4).abs() < 1e-15);
        assert!((sc.lr(1000) - 1e-4).abs() < 1e-15);
    }

    #[test]
    fn cosine_decay_reaches_min() {
        let sc = s(Decay::Cosine);
        assert!((sc.lr(60) - (1e-5 + (1e-3 - 1e-5) * 0.5)).abs() < 1e-12);
        assert!((sc.lr(110) - 1e-5).abs() < 1e-15);
        assert!((sc.lr(500) - 1e-5).abs() < 1e-15);
        assert_eq!(s(Decay::Constant).lr(500), 1e-3);
    }

    #[test]
    fn zero_warmup_starts_at_peak() {
        let sc = Schedule {
            warmup_steps: 0,
            ..s(Decay::InverseSqrt)
        };
        assert_eq!(sc.lr(1), 1e-3);
        assert!((sc.lr(4) - 5e-4).abs() < 1e-15);
    }

    #[test]
    fn linear_decay_halfway_and_at_the_end() {
        let sc = s(Decay::Linear);
        assert!((sc.lr(60) - (1e-3 + 1e-5) / 2.0).abs() < 1e-15);
        assert!((sc.lr(110) - 1e-5).abs() < 1e-15);
        assert!((sc.lr(500) - 1e-5).abs() < 1e-15);
    }

    #[test]
    fn specs_parse_and_size_to_a_run() {
        let spec = ScheduleSpec::parse("cosine", 10, 1e-5).unwrap();
        assert_eq!(spec.with(1e-3, 110), s(Decay::Cosine));
        assert_eq!(
            ScheduleSpec::parse("linear", 0, 0.0).unwrap().decay,
            Decay::Linear
        );
        let e = ScheduleSpec::parse("cosinus", 0, 0.0).unwrap_err();
        assert!(e.contains("cosinus") && e.contains("linear"), "{e}");
        assert!(ScheduleSpec::parse("constant", 0, -1.0).is_err());
    }
}
