//! T5's RMS layer norm (`T5LayerNorm`): `y = w ⊙ x / sqrt(mean(x²) + ε)`, no bias, no mean
//! subtraction, the mean of squares computed in f32.

use burn::module::{Module, Param};
use burn::tensor::Device;
use burn::tensor::Tensor;

/// RMS layer norm over the last dimension. `weight` mirrors Hugging Face's `layer_norm.weight`.
#[derive(Module, Debug)]
pub struct T5LayerNorm {
    /// Scale, initialised to 1.
    pub weight: Param<Tensor<1>>,
    /// Added to the mean of squares (T5: 1e-6).
    pub eps: f64,
}

impl T5LayerNorm {
    /// A norm of width `d_model` with unit weight.
    pub fn new(d_model: usize, eps: f64, device: &Device) -> Self {
        Self {
            weight: Param::from_tensor(Tensor::ones([d_model], device)),
            eps,
        }
    }

    /// Normalises the last dimension.
    ///
    /// # Shapes
    /// - x: `[..., d_model]`
    /// - output: `[..., d_model]`
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        crate::ops::fused::rms_norm(x, self.weight.val(), self.eps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn reference_values() {
        let device = Device::flex();
        let norm = T5LayerNorm::new(4, 1e-6, &device);
        let x = Tensor::<2>::from_data(TensorData::from([[1.0f32, 2.0, 3.0, 4.0]]), &device);
        let y = norm.forward(x).into_data().try_to_vec::<f32>().unwrap();
        let want = [0.3651483f64, 0.7302967, 1.0954450, 1.4605934];
        for (a, b) in y.iter().zip(want) {
            assert!((*a as f64 - b).abs() < 1e-6, "{y:?}");
        }
    }

    #[test]
    fn no_mean_subtraction_and_weight_scales() {
        let device = Device::flex();
        let mut norm = T5LayerNorm::new(2, 1e-6, &device);
        norm.weight =
            Param::from_tensor(Tensor::from_data(TensorData::from([2.0f32, 0.5]), &device));
        // A constant row keeps its sign and magnitude 1 (LayerNorm would give zeros).
        let x = Tensor::<2>::from_data(TensorData::from([[3.0f32, 3.0]]), &device);
        let y = norm.forward(x).into_data().try_to_vec::<f32>().unwrap();
        assert!(
            (y[0] - 2.0).abs() < 1e-5 && (y[1] - 0.5).abs() < 1e-5,
            "{y:?}"
        );
    }

    #[test]
    fn epsilon_is_used() {
        let device = Device::flex();
        let norm = T5LayerNorm::new(1, 1e-2, &device);
        let x = Tensor::<2>::from_data(TensorData::from([[0.1f32]]), &device);
        let y = norm.forward(x).into_data().try_to_vec::<f32>().unwrap();
        let want = 0.1 / (0.01f32 + 0.01).sqrt();
        assert!((y[0] - want).abs() < 1e-5, "{y:?}");
    }
}
