//! Server settings, layered: defaults → TOML file → `PPRL_*` environment →
//! command-line flags. Parsed once into [`Settings`], which cannot be invalid.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// The settings file as written; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub max_upload_bytes: Option<u64>,
    pub keep_versions: Option<usize>,
    pub log_format: Option<String>,
}

/// Checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Largest accepted upload body.
    pub max_upload_bytes: u64,
    /// Versions kept per dataset; 0 keeps every version.
    pub keep_versions: usize,
    pub log_format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Why the settings were refused; each message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{name}=`{value}` is not a whole number")]
    NotANumber { name: &'static str, value: String },
    #[error("listen address `{0}` is not IP:PORT (set `listen` or PPRL_LISTEN)")]
    Listen(String),
    #[error("max_upload_bytes must be above 0")]
    ZeroUploadLimit,
    #[error("log_format `{0}` must be `text` or `json`")]
    LogFormat(String),
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {}", path.display(), error.to_string().trim_end())]
    Parse {
        path: PathBuf,
        error: toml::de::Error,
    },
}

/// Defaults.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8480";
pub const DEFAULT_DATA_DIR: &str = "pprl-data";
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// What overrides the file: environment values then flags, already read.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub max_upload_bytes: Option<u64>,
    pub keep_versions: Option<usize>,
    pub log_format: Option<String>,
}

impl Overrides {
    /// Reads `PPRL_LISTEN`, `PPRL_DATA_DIR`, `PPRL_MAX_UPLOAD_BYTES`, `PPRL_KEEP_VERSIONS`, `PPRL_LOG_FORMAT`.
    pub fn from_env() -> Result<Self, SettingsError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let number = |name: &'static str| -> Result<Option<u64>, SettingsError> {
            var(name)
                .map(|value| {
                    value
                        .parse()
                        .map_err(|_| SettingsError::NotANumber { name, value })
                })
                .transpose()
        };
        Ok(Overrides {
            listen: var("PPRL_LISTEN"),
            data_dir: var("PPRL_DATA_DIR").map(PathBuf::from),
            max_upload_bytes: number("PPRL_MAX_UPLOAD_BYTES")?,
            keep_versions: number("PPRL_KEEP_VERSIONS")?.map(|v| v as usize),
            log_format: var("PPRL_LOG_FORMAT"),
        })
    }

    /// Values set here win over `self`.
    pub fn then(self, later: Overrides) -> Overrides {
        Overrides {
            listen: later.listen.or(self.listen),
            data_dir: later.data_dir.or(self.data_dir),
            max_upload_bytes: later.max_upload_bytes.or(self.max_upload_bytes),
            keep_versions: later.keep_versions.or(self.keep_versions),
            log_format: later.log_format.or(self.log_format),
        }
    }
}

impl Settings {
    /// Layers the file under the overrides and checks the result.
    pub fn resolve(file: SettingsFile, overrides: Overrides) -> Result<Self, SettingsError> {
        let listen_text = overrides
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text
            .parse()
            .map_err(|_| SettingsError::Listen(listen_text.clone()))?;
        let max_upload_bytes = overrides
            .max_upload_bytes
            .or(file.max_upload_bytes)
            .unwrap_or(DEFAULT_MAX_UPLOAD_BYTES);
        if max_upload_bytes == 0 {
            return Err(SettingsError::ZeroUploadLimit);
        }
        let log_format = match overrides
            .log_format
            .or(file.log_format)
            .as_deref()
            .unwrap_or("text")
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(SettingsError::LogFormat(other.to_owned())),
        };
        Ok(Settings {
            listen,
            data_dir: overrides
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            max_upload_bytes,
            keep_versions: overrides.keep_versions.or(file.keep_versions).unwrap_or(0),
            log_format,
        })
    }

    /// Reads a settings file.
    pub fn load_file(path: &std::path::Path) -> Result<SettingsFile, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|error| SettingsError::Read {
            path: path.to_owned(),
            error,
        })?;
        toml::from_str(&text).map_err(|error| SettingsError::Parse {
            path: path.to_owned(),
            error,
        })
    }
}

/// The commented example printed by `pprl-linker default-config`.
pub const DEFAULT_CONFIG: &str = include_str!("default_config.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let file: SettingsFile = toml::from_str(DEFAULT_CONFIG).expect("the default config parses");
        let s = Settings::resolve(file, Overrides::default()).expect("valid");
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        let file = SettingsFile {
            listen: Some("127.0.0.1:1".into()),
            keep_versions: Some(3),
            ..Default::default()
        };
        let env = Overrides {
            listen: Some("127.0.0.1:2".into()),
            ..Default::default()
        };
        let flags = Overrides {
            keep_versions: Some(5),
            ..Default::default()
        };
        let s = Settings::resolve(file, env.then(flags)).expect("valid");
        assert_eq!(s.listen.port(), 2);
        assert_eq!(s.keep_versions, 5);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let bad = Overrides {
            listen: Some("nowhere".into()),
            ..Default::default()
        };
        assert!(
            Settings::resolve(SettingsFile::default(), bad)
                .unwrap_err()
                .to_string()
                .contains("PPRL_LISTEN")
        );
        let bad = SettingsFile {
            log_format: Some("xml".into()),
            ..Default::default()
        };
        assert!(
            Settings::resolve(bad, Overrides::default())
                .unwrap_err()
                .to_string()
                .contains("log_format")
        );
    }
}
