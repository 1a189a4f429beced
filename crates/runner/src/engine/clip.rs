//! Gradient clipping by the global L2 norm over all parameters (burn's own clipping is per
//! parameter).

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};
use std::marker::PhantomData;

struct SquaredNorm<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    total: Option<Tensor<B::InnerBackend, 1>>,
    _b: PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SquaredNorm<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let s = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Scale<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    factor: f64,
    _b: PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// The global gradient norm `sqrt(Σ‖g‖²)` over `module`'s parameters.
pub fn global_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &GradientsParams,
) -> f64 {
    let mut v = SquaredNorm::<B> {
        grads,
        total: None,
        _b: PhantomData,
    };
    module.visit(&mut v);
    v.total
        .map(|t| t.into_scalar().elem::<f64>().sqrt())
        .unwrap_or(0.0)
}

/// Scales all gradients by `max_norm / norm` when the global norm exceeds `max_norm`; returns
/// the norm before clipping.
pub fn clip_global_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f64,
) -> f64 {
    let norm = global_norm::<B, M>(module, grads);
    if norm.is_finite() && norm > max_norm && max_norm > 0.0 {
        let mut v = Scale::<B> {
            grads,
            factor: max_norm / norm,
            _b: PhantomData,
        };
        module.visit(&mut v);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::nn::{Linear, LinearConfig};

    type B = Autodiff<Flex>;

    #[test]
    fn clips_to_the_global_norm() {
        let device = Default::default();
        let lin: Linear<B> = LinearConfig::new(3, 2).init(&device);
        let x = Tensor::<B, 2>::ones([4, 3], &device).mul_scalar(10.0);
        let loss = lin.forward(x).sum();
        let mut grads = GradientsParams::from_grads(loss.backward(), &lin);
        let before = global_norm::<B, _>(&lin, &grads);
        // d/dW of Σ (xW + b) with x = 10: each weight grad = 4·10 = 40, bias grads = 4.
        let expected = (6.0f64 * 40.0 * 40.0 + 2.0 * 16.0).sqrt();
        assert!((before - expected).abs() < 1e-3, "{before} vs {expected}");
        let returned = clip_global_norm::<B, _>(&lin, &mut grads, 1.0);
        assert!((returned - expected).abs() < 1e-3);
        let after = global_norm::<B, _>(&lin, &grads);
        assert!((after - 1.0).abs() < 1e-5, "{after}");
        // Below the threshold nothing changes.
        assert!((clip_global_norm::<B, _>(&lin, &mut grads, 5.0) - 1.0).abs() < 1e-5);
        assert!((global_norm::<B, _>(&lin, &grads) - 1.0).abs() < 1e-5);
    }
}
