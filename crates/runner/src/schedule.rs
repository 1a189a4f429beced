//! Learning-rate schedules: linear warm-up, then inverse square root, cosine or constant.

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
}
