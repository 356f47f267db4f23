//! OCR: tesseract (with German) as a bounded subprocess, the one parser of uploaded bytes
//! that runs outside the WebAssembly sandbox. Each run gets a private temporary directory
//! under the node's data directory, an address-space and CPU-time limit (`prlimit`), a
//! wall-clock timeout, an empty environment, and no network (`unshare --net` where the
//! kernel allows it). PDF pages without a text layer are rendered by `pdftoppm` under the
//! same limits first.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::{io::AsyncReadExt, process::Command};

/// How OCR runs.
#[derive(Clone, Debug)]
pub struct OcrConfig {
    /// The tesseract program.
    pub tesseract: PathBuf,
    /// The pdftoppm program (poppler-utils).
    pub pdftoppm: PathBuf,
    /// Tesseract language(s), e.g. `deu`.
    pub language: String,
    /// Resolution for rendering PDF pages.
    pub dpi: u32,
    /// Wall-clock limit per page (render plus recognition).
    pub page_timeout: Duration,
    /// Address-space limit per process, in bytes.
    pub memory_bytes: u64,
    /// At most this many pages of one document are recognised; the rest are reported.
    pub max_pages: u32,
    /// At most this many bytes of text per page are kept.
    pub max_page_text: usize,
    /// Where the private temporary directories go (inside the node's data directory).
    pub tmp_dir: PathBuf,
}

impl OcrConfig {
    /// Defaults: tesseract and pdftoppm from `PATH`, German, 300 dpi, 120 s and 1 GiB per
    /// page, 500 pages, 1 MiB of text per page.
    pub fn new(tmp_dir: impl Into<PathBuf>) -> OcrConfig {
        OcrConfig {
            tesseract: "tesseract".into(),
            pdftoppm: "pdftoppm".into(),
            language: "deu".into(),
            dpi: 300,
            page_timeout: Duration::from_secs(120),
            memory_bytes: 1 << 30,
            max_pages: 500,
            max_page_text: 1 << 20,
            tmp_dir: tmp_dir.into(),
        }
    }
}

/// Why OCR failed.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// The program could not be started or its temporary files not written.
    #[error("OCR could not run: {0}")]
    Setup(String),
    /// It ran longer than the limit.
    #[error("OCR took longer than {0} s and was stopped")]
    Timeout(u64),
    /// It exited with an error (unreadable image, memory limit …).
    #[error("OCR failed: {0}")]
    Failed(String),
}

/// The OCR engine, once found.
#[derive(Clone, Debug)]
pub struct Ocr {
    config: OcrConfig,
    version: String,
    no_network: bool,
}

/// The media types OCR reads directly.
pub fn is_image(media_type: &str) -> bool {
    matches!(media_type, "image/png" | "image/jpeg" | "image/tiff" | "image/bmp" | "image/gif" | "image/webp")
}

impl Ocr {
    /// Finds tesseract with the configured language; `None` (with the reason) when OCR is
    /// not available on this node.
    pub async fn detect(config: OcrConfig) -> Result<Ocr, String> {
        let out = Command::new(&config.tesseract)
            .arg("--list-langs")
            .env_clear()
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| format!("{} cannot be started: {e}", config.tesseract.display()))?;
        let langs = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        for lang in config.language.split('+') {
            if !langs.lines().any(|l| l.trim() == lang) {
                return Err(format!("tesseract has no language data for {lang:?} (install tesseract-ocr-{lang})"));
            }
        }
        let out = Command::new(&config.tesseract)
            .arg("--version")
            .env_clear()
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        let version = text
            .split_whitespace()
            .nth(1)
            .filter(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or("unknown")
            .to_string();
        let no_network = Command::new("unshare")
            .args(["--net", "--map-root-user", "true"])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map(|s| s.success())
            .unwrap_or(false);
        std::fs::create_dir_all(&config.tmp_dir).map_err(|e| format!("{}: {e}", config.tmp_dir.display()))?;
        Ok(Ocr { config, version, no_network })
    }

    /// The producer name results are keyed by: engine, version, language and resolution.
    pub fn producer(&self) -> String {
        format!("ocr:tesseract-{}+{}+{}dpi", self.version, self.config.language, self.config.dpi)
    }

    /// Whether runs are cut off from the network by a namespace of their own.
    pub fn isolated(&self) -> bool {
        self.no_network
    }

    /// The configuration.
    pub fn config(&self) -> &OcrConfig {
        &self.config
    }

    /// Recognises the text of one image.
    pub async fn image(&self, bytes: &[u8]) -> Result<String, OcrError> {
        let dir = self.workdir()?;
        let input = dir.path().join("input");
        std::fs::write(&input, bytes).map_err(|e| OcrError::Setup(e.to_string()))?;
        self.recognise(&input).await
    }

    /// Renders and recognises the given 1-based pages of a PDF, calling `done` after each.
    /// Returns the text per page, in the order given; pages beyond `max_pages` are left out.
    pub async fn pdf_pages(
        &self,
        bytes: &[u8],
        pages: &[u32],
        mut done: impl FnMut(u32),
    ) -> Result<Vec<(u32, String)>, OcrError> {
        let dir = self.workdir()?;
        let input = dir.path().join("input.pdf");
        std::fs::write(&input, bytes).map_err(|e| OcrError::Setup(e.to_string()))?;
        let mut out = Vec::new();
        for &page in pages.iter().take(self.config.max_pages as usize) {
            let prefix = dir.path().join(format!("page{page}"));
            let n = page.to_string();
            let dpi = self.config.dpi.to_string();
            let args: Vec<&std::ffi::OsStr> = vec![
                "-r".as_ref(),
                dpi.as_ref(),
                "-gray".as_ref(),
                "-png".as_ref(),
                "-singlefile".as_ref(),
                "-f".as_ref(),
                n.as_ref(),
                "-l".as_ref(),
                n.as_ref(),
                input.as_os_str(),
                prefix.as_os_str(),
            ];
            self.run(&self.config.pdftoppm, &args, 0).await?;
            let image = prefix.with_extension("png");
            let text = self.recognise(&image).await?;
            let _ = std::fs::remove_file(&image);
            out.push((page, text));
            done(page);
        }
        Ok(out)
    }

    async fn recognise(&self, image: &Path) -> Result<String, OcrError> {
        let args: Vec<&std::ffi::OsStr> = vec![
            image.as_os_str(),
            "stdout".as_ref(),
            "-l".as_ref(),
            self.config.language.as_ref(),
            "--psm".as_ref(),
            "3".as_ref(),
        ];
        let stdout = self.run(&self.config.tesseract, &args, self.config.max_page_text).await?;
        Ok(String::from_utf8_lossy(&stdout).trim_end().to_string())
    }

    fn workdir(&self) -> Result<tempfile::TempDir, OcrError> {
        tempfile::Builder::new()
            .prefix("ocr-")
            .tempdir_in(&self.config.tmp_dir)
            .map_err(|e| OcrError::Setup(format!("{}: {e}", self.config.tmp_dir.display())))
    }

    /// Runs a program under the limits; returns at most `keep` bytes of its output.
    async fn run(&self, program: &Path, args: &[&std::ffi::OsStr], keep: usize) -> Result<Vec<u8>, OcrError> {
        let secs = self.config.page_timeout.as_secs().max(1);
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--as={}", self.config.memory_bytes))
            .arg(format!("--cpu={secs}"))
            .arg(format!("--fsize={}", 512u64 << 20))
            .arg("--core=0")
            .arg("--");
        if self.no_network {
            cmd.args(["unshare", "--net", "--map-root-user", "--"]);
        }
        cmd.arg(program)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(prefix) = std::env::var_os("TESSDATA_PREFIX") {
            cmd.env("TESSDATA_PREFIX", prefix);
        }
        let mut child = cmd.spawn().map_err(|e| OcrError::Setup(format!("{}: {e}", program.display())))?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let work = async {
            let mut out = Vec::new();
            let mut err = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            let mut err_buf = vec![0u8; 4096];
            let (mut out_open, mut err_open) = (true, true);
            while out_open || err_open {
                tokio::select! {
                    n = stdout.read(&mut buf), if out_open => match n {
                        Ok(0) | Err(_) => out_open = false,
                        Ok(n) => { let room = keep.saturating_sub(out.len()); out.extend_from_slice(&buf[..n.min(room)]); }
                    },
                    n = stderr.read(&mut err_buf), if err_open => match n {
                        Ok(0) | Err(_) => err_open = false,
                        Ok(n) => { let room = 4096usize.saturating_sub(err.len()); err.extend_from_slice(&err_buf[..n.min(room)]); }
                    },
                }
            }
            let status = child.wait().await;
            (status, out, err)
        };
        match tokio::time::timeout(self.config.page_timeout, work).await {
            Err(_) => Err(OcrError::Timeout(secs)),
            Ok((Err(e), _, _)) => Err(OcrError::Setup(e.to_string())),
            Ok((Ok(status), out, err)) if status.success() => {
                let _ = err;
                Ok(out)
            }
            Ok((Ok(status), _, err)) => {
                let name = program.file_name().unwrap_or_default().to_string_lossy().to_string();
                let last = String::from_utf8_lossy(&err)
                    .lines()
                    .rfind(|l| !l.trim().is_empty())
                    .unwrap_or("no message")
                    .to_string();
                Err(OcrError::Failed(format!("{name} exited with {status}: {last}")))
            }
        }
    }
}
