//! The only place that names a burn backend type.
//!
//! CPU: burn-flex (default; ~10× burn-ndarray on the CNN, see `../shared/PERF-NOTES.md`), or
//! burn-ndarray with the `ndarray` feature. GPU: burn-cuda with the `cuda` feature.
//!
//! Code that trains or evaluates is generic over `B: AutodiffBackend`; it implements
//! [`WithBackend`] and [`dispatch`] picks the backend from `--device`.

use anyhow::{Result, bail};
use burn::tensor::backend::AutodiffBackend;

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

/// A device named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    Cpu,
    /// `cuda` (= `cuda:0`) or `cuda:N`.
    Cuda(usize),
}

impl DeviceChoice {
    /// Parses `cpu`, `cuda`, `cuda:N`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(i)) => Ok(DeviceChoice::Cuda(i)),
                _ => bail!("unknown device {s:?}: expected cpu, cuda or cuda:N"),
            },
        }
    }
}

/// Work that runs on any autodiff backend.
pub trait WithBackend {
    type Output;
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Self::Output>;
}

/// Runs `job` on the backend of `device` (`cpu`, `cuda`, `cuda:N`).
pub fn dispatch<J: WithBackend>(device: &str, job: J) -> Result<J::Output> {
    match DeviceChoice::parse(device)? {
        DeviceChoice::Cpu => job.run::<CpuTrain>(Default::default()),
        #[cfg(feature = "cuda")]
        DeviceChoice::Cuda(i) => job.run::<CudaTrain>(cuda_device::<CudaTrain>(i, device)?),
        #[cfg(not(feature = "cuda"))]
        DeviceChoice::Cuda(_) => bail!(
            "device {device:?} needs a build with CUDA: cargo build --release -p strand-runner \
             --features cuda"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse() {
        assert_eq!(DeviceChoice::parse("cpu").unwrap(), DeviceChoice::Cpu);
        assert_eq!(
            DeviceChoice::parse("cuda:1").unwrap(),
            DeviceChoice::Cuda(1)
        );
        assert!(DeviceChoice::parse("tpu").is_err());
    }

    #[test]
    fn cubecl_config_files_are_found_in_parents_only_when_present() {
        let tmp = std::env::temp_dir().join(format!("strand-cubecl-{}", std::process::id()));
        let inner = tmp.join("a").join("b");
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(
            cubecl_config_file_above(&inner).filter(|p| p.starts_with(&tmp)),
            None
        );
        std::fs::write(tmp.join("a").join("cubecl.toml"), "").unwrap();
        assert_eq!(
            cubecl_config_file_above(&inner),
            Some(tmp.join("a").join("cubecl.toml"))
        );
        std::fs::remove_dir_all(&tmp).unwrap();
        assert!(cubecl_cache_dir().ends_with("cubecl"));
    }
}

/// CubeCL's configuration files; when one is found in the working directory or a parent,
/// strand leaves CubeCL's configuration to it.
const CUBECL_CONFIG_FILES: [&str; 4] = ["cubecl.toml", "CubeCL.toml", "burn.toml", "Burn.toml"];

/// Where strand keeps CubeCL's compiled kernels and autotune results:
/// `<strand cache>/cubecl` (`$STRAND_CACHE`, else `$XDG_CACHE_HOME/strand`, else
/// `~/.cache/strand`).
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
pub fn cubecl_cache_dir() -> std::path::PathBuf {
    strand_data::cache::default_cache_dir().join("cubecl")
}

/// Whether a CubeCL configuration file lies in `dir` or one of its parents.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
fn cubecl_config_file_above(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    dir.ancestors()
        .flat_map(|d| CUBECL_CONFIG_FILES.iter().map(move |f| d.join(f)))
        .find(|p| p.is_file())
}

/// Sets CubeCL's configuration before the first CUDA device is used (once per process): the
/// compiled-kernel cache (PTX; off by default in CubeCL 0.10, so every run recompiled every
/// kernel) and the autotune cache both go to [`cubecl_cache_dir`], so only the first run on a
/// machine pays for compilation and autotuning. `CUBECL_AUTOTUNE_LEVEL`
/// (`minimal|balanced|extensive|full`) and CubeCL's other variables still apply; a
/// `cubecl.toml` (or `burn.toml`) above the working directory replaces all of this.
#[cfg(feature = "cuda")]
fn configure_cubecl() {
    use burn::cubecl::config::cache::CacheConfig;
    use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let here = std::env::current_dir().unwrap_or_else(|_| "/".into());
        if let Some(file) = cubecl_config_file_above(&here) {
            tracing::info!("CubeCL configuration from {}", file.display());
            return;
        }
        let dir = cubecl_cache_dir();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!("no CubeCL kernel cache ({}: {e})", dir.display());
            return;
        }
        let mut config = CubeClRuntimeConfig::default();
        config.compilation.cache = Some(CacheConfig::File(dir.clone()));
        config.autotune.cache = CacheConfig::File(dir.clone());
        let config = config.override_from_env();
        tracing::info!(
            "CubeCL kernel and autotune caches in {} (autotune level {:?})",
            dir.display(),
            config.autotune.level
        );
        CubeClRuntimeConfig::set(config);
    });
}

/// CUDA device `index` (named `name` on the command line), ready for backend `B`: CubeCL is
/// configured first ([`configure_cubecl`]), then the device is touched once, so that a machine
/// without a usable CUDA driver or device ends in an error naming the device instead of a
/// panic deep in CubeCL (whose own message, printed just before, says what was missing:
/// usually `libcuda.so`).
#[cfg(feature = "cuda")]
fn cuda_device<B>(index: usize, name: &str) -> Result<burn::backend::cuda::CudaDevice>
where
    B: burn::tensor::backend::Backend<Device = burn::backend::cuda::CudaDevice>,
{
    configure_cubecl();
    let device = burn::backend::cuda::CudaDevice::new(index);
    let probe = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        burn::tensor::Tensor::<B, 1>::zeros([1], &device).into_data()
    }));
    if probe.is_err() {
        bail!(
            "--device {name}: the CUDA device could not be initialised (see the message above; \
             usually no NVIDIA driver, libcuda.so, on this machine, or no such device)"
        );
    }
    Ok(device)
}

/// Floating-point precision of a run (`--precision`).
///
/// `f32`: everything in f32. `bf16` (CUDA only): the backend's float type is bf16, so
/// parameters, activations, gradients and optimizer moments are all stored in bf16 (no f32
/// master weights); cubecl's matrix products read bf16 and accumulate in f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    Bf16,
}

impl Precision {
    /// Parses `f32` or `bf16`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "f32" | "fp32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            _ => bail!("unknown precision {s:?}: expected f32 or bf16"),
        }
    }
}

/// burn-cuda with bf16 floats.
#[cfg(feature = "cuda")]
pub type CudaBf16 = burn::backend::Cuda<burn::tensor::bf16, i32>;
#[cfg(feature = "cuda")]
pub type CudaBf16Train = burn::backend::Autodiff<CudaBf16>;

/// [`dispatch`] with a precision: `bf16` runs on [`CudaBf16Train`] and needs a CUDA device.
pub fn dispatch_with_precision<J: WithBackend>(
    device: &str,
    precision: Precision,
    job: J,
) -> Result<J::Output> {
    match (DeviceChoice::parse(device)?, precision) {
        (_, Precision::F32) => dispatch(device, job),
        (DeviceChoice::Cpu, Precision::Bf16) => {
            bail!("--precision bf16 needs a CUDA device; the CPU backend trains in f32")
        }
        #[cfg(feature = "cuda")]
        (DeviceChoice::Cuda(i), Precision::Bf16) => {
            job.run::<CudaBf16Train>(cuda_device::<CudaBf16Train>(i, device)?)
        }
        #[cfg(not(feature = "cuda"))]
        (DeviceChoice::Cuda(_), Precision::Bf16) => dispatch(device, job),
    }
}

#[cfg(test)]
mod precision_tests {
    use super::*;

    #[test]
    fn precisions_parse_and_bf16_needs_cuda() {
        assert_eq!(Precision::parse("f32").unwrap(), Precision::F32);
        assert_eq!(Precision::parse("bf16").unwrap(), Precision::Bf16);
        assert!(Precision::parse("f16").is_err());

        struct Nothing;
        impl WithBackend for Nothing {
            type Output = ();
            fn run<B: AutodiffBackend>(self, _device: B::Device) -> Result<()> {
                Ok(())
            }
        }
        let e = dispatch_with_precision("cpu", Precision::Bf16, Nothing).unwrap_err();
        assert!(e.to_string().contains("CUDA"), "{e}");
        dispatch_with_precision("cpu", Precision::F32, Nothing).unwrap();
    }
}
