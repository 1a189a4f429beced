//! The only place that names a burn backend type.
//!
//! CPU: burn-flex (default; ~10× burn-ndarray on the CNN, see `../shared/PERF-NOTES.md`), or
//! burn-ndarray with the `ndarray` feature. GPU: burn-cuda with the `cuda` feature.

#[cfg(not(feature = "ndarray"))]
pub type Cpu = burn::backend::Flex;
#[cfg(feature = "ndarray")]
pub type Cpu = burn::backend::NdArray;

/// The CPU backend with autodiff, for training.
pub type CpuTrain = burn::backend::Autodiff<Cpu>;

#[cfg(feature = "cuda")]
pub type Cuda = burn::backend::Cuda;
#[cfg(feature = "cuda")]
pub type CudaTrain = burn::backend::Autodiff<Cuda>;
