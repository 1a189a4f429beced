//! The only place that names a burn backend (a device kind).
//!
//! CPU: burn-flex (default; ~10× burn-ndarray on the CNN, see `../shared/PERF-NOTES.md`), or
//! burn-ndarray with the `ndarray` feature. GPU: CUDA with the `cuda` feature.
//!
//! burn 0.22 has no backend type: a [`Device`] says which backend runs a tensor and whether
//! autodiff records its operations. Code that trains or evaluates takes a `&Device`; [`device`]
//! turns `--device` and `--precision` into one (without autodiff, for evaluation) and
//! [`train_device`] into one with autodiff (for training). Devices are always built here
//! explicitly: `Device::default()` would pick CUDA whenever it is compiled in.

use anyhow::{Result, bail};
use burn::tensor::Device;

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

/// Floating-point precision of a run (`--precision`).
///
/// `f32`: everything in f32. `bf16` (CUDA only): the device's default float type is bf16
/// (`Device::configure`), so parameters, activations, gradients and optimizer moments are all
/// stored in bf16 (no f32 master weights); cubecl's matrix products read bf16 and accumulate in
/// f32.
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

/// The CPU device, without autodiff: burn-flex, or burn-ndarray with the `ndarray` feature.
pub fn cpu() -> Device {
    #[cfg(not(feature = "ndarray"))]
    let device = Device::flex();
    // burn-ndarray is deprecated since burn 0.22; the feature keeps it for comparison.
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    let device = Device::ndarray();
    device
}

/// The device of `--device` (`cpu`, `cuda`, `cuda:N`) in `precision`, without autodiff: for
/// evaluation. A CUDA device is initialised here, so that a machine without one fails with an
/// error naming it.
///
/// # Errors
/// An unknown device name, `bf16` on the CPU, CUDA in a build without the `cuda` feature, or a
/// CUDA device that cannot be initialised.
pub fn device(name: &str, precision: Precision) -> Result<Device> {
    match (DeviceChoice::parse(name)?, precision) {
        (DeviceChoice::Cpu, Precision::F32) => Ok(cpu()),
        (DeviceChoice::Cpu, Precision::Bf16) => {
            bail!("--precision bf16 needs a CUDA device; the CPU backend trains in f32")
        }
        #[cfg(feature = "cuda")]
        (DeviceChoice::Cuda(i), precision) => cuda_device(i, name, precision),
        #[cfg(not(feature = "cuda"))]
        (DeviceChoice::Cuda(_), _) => bail!(
            "device {name:?} needs a build with CUDA: cargo build --release -p strand-runner \
             --features cuda"
        ),
    }
}

/// [`device`] with autodiff: for training.
pub fn train_device(name: &str, precision: Precision) -> Result<Device> {
    Ok(device(name, precision)?.autodiff())
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

/// Sets CubeCL's configuration before the first CUDA device is used (once per process).
/// CubeCL 0.11 keeps compiled kernels (PTX) and autotune results in one store, its
/// "environment", under `environment.path` (by default a `target/environment` beside the
/// outermost `Cargo.toml` above the working directory, else the user cache); strand points it
/// at [`cubecl_cache_dir`] and turns on the compiled-kernel cache (`compilation.cache`, off by
/// default, so every run recompiled every kernel), so only the first run on a machine pays for
/// compilation and autotuning. `CUBECL_AUTOTUNE_LEVEL` (`minimal|balanced|extensive|full`),
/// `CUBECL_AUTOTUNE_CACHE` and CubeCL's other variables still apply; a `cubecl.toml` (or
/// `burn.toml`) above the working directory replaces all of this.
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
        config.environment.path = CacheConfig::Directory(dir.clone());
        config.compilation.cache = true;
        config.autotune.disable_cache = false;
        let config = config.override_from_env();
        let level = config.autotune.level.clone();
        if CubeClRuntimeConfig::try_set(config) {
            tracing::info!(
                "CubeCL kernel and autotune caches in {} (autotune level {level:?})",
                dir.display()
            );
        } else {
            tracing::warn!("CubeCL was configured before strand could set its kernel cache");
        }
    });
}

/// CUDA device `index` (named `name` on the command line) in `precision`, without autodiff:
/// CubeCL is configured first ([`configure_cubecl`]), bf16 is set as the device's float type
/// before any tensor exists on it, then the device is touched once, so that a machine without a
/// usable CUDA driver or device ends in an error naming the device instead of a panic deep in
/// CubeCL (whose own message, printed just before, says what was missing: usually
/// `libcuda.so`).
#[cfg(feature = "cuda")]
fn cuda_device(index: usize, name: &str, precision: Precision) -> Result<Device> {
    use burn::tensor::{FloatDType, IntDType, Tensor};
    configure_cubecl();
    let mut device = Device::cuda(index);
    let probe = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if precision == Precision::Bf16 {
            device.configure((FloatDType::BF16, IntDType::I32))?;
        }
        let _ = Tensor::<1>::zeros([1], &device).into_data();
        Ok::<(), burn::tensor::DeviceError>(())
    }));
    match probe {
        Ok(Ok(())) => Ok(device),
        Ok(Err(e)) => bail!("--device {name} --precision bf16: {e}"),
        Err(_) => bail!(
            "--device {name}: the CUDA device could not be initialised (see the message above; \
             usually no NVIDIA driver, libcuda.so, on this machine, or no such device)"
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

    #[test]
    fn precisions_parse_and_bf16_needs_cuda() {
        assert_eq!(Precision::parse("f32").unwrap(), Precision::F32);
        assert_eq!(Precision::parse("bf16").unwrap(), Precision::Bf16);
        assert!(Precision::parse("f16").is_err());

        let e = device("cpu", Precision::Bf16).unwrap_err();
        assert!(e.to_string().contains("CUDA"), "{e}");
        let eval = device("cpu", Precision::F32).unwrap();
        assert!(!eval.is_autodiff());
        assert_eq!(eval, cpu());
        let train = train_device("cpu", Precision::F32).unwrap();
        assert!(train.is_autodiff());
        #[cfg(not(feature = "cuda"))]
        {
            let e = device("cuda:1", Precision::F32).unwrap_err();
            assert!(e.to_string().contains("--features cuda"), "{e}");
        }
    }
}
