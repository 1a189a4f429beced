//! Gradient clipping by the global L2 norm over all parameters (burn's own clipping is per
//! parameter).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// The global gradient norm `sqrt(Σ‖g‖²)` over `module`'s parameters.
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut v = SquaredNorm { grads, total: None };
    module.visit(&mut v);
    v.total
        .map(|t| f64::from(t.into_scalar::<f32>()).sqrt())
        .unwrap_or(0.0)
}

/// Scales all gradients by `max_norm / norm` when the global norm exceeds `max_norm`; returns
/// the norm before clipping.
pub fn clip_global_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let norm = global_norm(module, grads);
    if norm.is_finite() && norm > max_norm && max_norm > 0.0 {
        let mut v = Scale {
            grads,
            factor: max_norm / norm,
        };
        module.visit(&mut v);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::cpu;
    use burn::nn::{Linear, LinearConfig};

    #[test]
    fn clips_to_the_global_norm() {
        let device = cpu().autodiff();
        let lin: Linear = LinearConfig::new(3, 2).init(&device);
        let x = Tensor::<2>::ones([4, 3], &device).mul_scalar(10.0);
        let loss = lin.forward(x).sum();
        let mut grads = GradientsParams::from_grads(loss.backward(), &lin);
        let before = global_norm(&lin, &grads);
        // d/dW of Σ (xW + b) with x = 10: each weight grad = 4·10 = 40, bias grads = 4.
        let expected = (6.0f64 * 40.0 * 40.0 + 2.0 * 16.0).sqrt();
        assert!((before - expected).abs() < 1e-3, "{before} vs {expected}");
        let returned = clip_global_norm(&lin, &mut grads, 1.0);
        assert!((returned - expected).abs() < 1e-3);
        let after = global_norm(&lin, &grads);
        assert!((after - 1.0).abs() < 1e-5, "{after}");
        // Below the threshold nothing changes.
        assert!((clip_global_norm(&lin, &mut grads, 5.0) - 1.0).abs() < 1e-5);
        assert!((global_norm(&lin, &grads) - 1.0).abs() < 1e-5);
    }
}
