//! A `pprl-linker serve` process on a loopback port, for the demo, the
//! end-to-end tests and the benches: the one place that starts it, reads the
//! address it prints, and stops or kills it.

use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// Why a linker process could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot start {}", program.display())]
    Start {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("pprl-linker did not start: its first line was {0:?}")]
    NoAddress(String),
    #[error("cannot stop pprl-linker (process {pid})")]
    Stop {
        pid: u32,
        #[source]
        source: io::Error,
    },
    #[error("pprl-linker exited with {0}")]
    Exit(ExitStatus),
}

/// A running `pprl-linker serve` on a loopback port; killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub url: String,
}

impl Server {
    /// Starts `pprl-linker --data-dir linker-data serve` in `work`.
    pub fn start(bin: &Path, work: &Path) -> Result<Self, ServerError> {
        let mut command = Command::new(bin);
        command
            .args(["--data-dir", "linker-data"])
            .current_dir(work);
        Self::spawn(command, &[])
    }

    /// Runs `command` (a `pprl-linker` with its global flags, working folder
    /// and stderr set) with `serve --listen 127.0.0.1:0` and `serve_flags`
    /// appended, and waits for the address it prints.
    pub fn spawn(mut command: Command, serve_flags: &[&str]) -> Result<Self, ServerError> {
        let program = PathBuf::from(command.get_program());
        let started = |source| ServerError::Start {
            program: program.clone(),
            source,
        };
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(serve_flags)
            .env("PPRL_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(started)?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let url = match (read, line.trim().strip_prefix("listening on ")) {
            (Ok(_), Some(url)) => url.to_owned(),
            (read, _) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(read.err().map_or(ServerError::NoAddress(line), started));
            }
        };
        Ok(Server { child, url })
    }

    /// The server's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server abruptly (SIGKILL), as a crash would, and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the server to stop (SIGTERM) and waits for it to exit.
    pub fn terminate(&mut self) -> Result<ExitStatus, ServerError> {
        let pid = self.child.id();
        let failed = |source| ServerError::Stop { pid, source };
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .map_err(failed)?;
        if !status.success() {
            return Err(failed(io::Error::other(format!("kill -TERM: {status}"))));
        }
        self.child.wait().map_err(failed)
    }

    /// Stops the server with SIGTERM and checks that it exited cleanly.
    pub fn stop(&mut self) -> Result<(), ServerError> {
        let exit = self.terminate()?;
        if !exit.success() {
            return Err(ServerError::Exit(exit));
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_prints_no_address_is_refused() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo hello; exit 0", "sh"]);
        let error = Server::spawn(command, &[]).unwrap_err();
        assert!(
            matches!(&error, ServerError::NoAddress(line) if line == "hello\n"),
            "{error:?}"
        );
        let error = Server::spawn(Command::new("/nonexistent/pprl-linker"), &[]).unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/pprl-linker"),
            "{error}"
        );
    }

    #[test]
    fn the_linker_starts_reports_its_address_and_stops() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut server = Server::start(&crate::bins::locate("pprl-linker", false), dir.path())
            .expect("pprl-linker starts");
        assert!(
            server.url.starts_with("http://127.0.0.1:"),
            "{}",
            server.url
        );
        assert!(server.id() > 0);
        let address = server.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("the linker accepts");
        std::io::Write::write_all(&mut stream, b"GET /healthz HTTP/1.0\r\n\r\n").expect("sent");
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).expect("answered");
        assert!(answer.starts_with("HTTP/1."), "{answer}");
        server.stop().expect("pprl-linker stops cleanly on SIGTERM");
    }

    /// SIGTERM at once after the address line is a clean stop: the linker
    /// installs its signal handlers before it prints the address (it used
    /// to print first, and a signal in between ended it with status 143).
    #[test]
    fn a_sigterm_right_after_the_address_line_is_a_clean_stop() {
        let linker = crate::bins::locate("pprl-linker", false);
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let mut server = Server::start(&linker, dir.path()).expect("pprl-linker starts");
            server.stop().expect("pprl-linker stops cleanly on SIGTERM");
        }
    }
}
