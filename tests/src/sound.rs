//! A real sound server for device tests: Debian's `pulseaudio`, in a folder of the test's
//! own, with one null sink whose monitor is the default source — what is played to the
//! "speaker" comes back from the "microphone". The process ends with the value.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running `pulseaudio`.
pub struct PulseServer {
    dir: TempDir,
    child: Child,
}

impl PulseServer {
    /// Starts `pulseaudio` with a null sink (`flint_speaker`) and its monitor as the default
    /// source; waits until it answers. Fails the test when PulseAudio is not installed
    /// (`cargo xtask test` installs it).
    pub fn start() -> Self {
        let dir = TempDir::new().expect("a folder for the sound server");
        let runtime = dir.path().join("runtime");
        std::fs::create_dir_all(runtime.join("pulse")).expect("the runtime folder");
        let socket = runtime.join("pulse/native");
        let child = Command::new("pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
            ])
            .args(["--disallow-module-loading=no", "--log-target=stderr"])
            .arg(format!(
                "--load=module-native-protocol-unix auth-anonymous=1 socket={}",
                socket.display()
            ))
            .arg("--load=module-null-sink sink_name=flint_speaker rate=48000")
            .envs(Self::env_for(dir.path()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pulseaudio starts (apt-get install pulseaudio)");
        let server = Self { dir, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.pactl(&["set-default-source", "flint_speaker.monitor"]) {
            assert!(
                Instant::now() < deadline,
                "pulseaudio answers on {socket:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// What a client of this server needs in its environment (and nothing of the user's
    /// own sound server).
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        Self::env_for(self.dir.path())
    }

    fn env_for(dir: &Path) -> Vec<(&'static str, PathBuf)> {
        let runtime = dir.join("runtime");
        vec![
            (
                "PULSE_SERVER",
                PathBuf::from(format!("unix:{}", runtime.join("pulse/native").display())),
            ),
            ("PULSE_RUNTIME_PATH", runtime.join("pulse")),
            ("PULSE_STATE_PATH", dir.join("state")),
            ("PULSE_COOKIE", dir.join("cookie")),
            ("XDG_RUNTIME_DIR", runtime),
            ("HOME", dir.to_path_buf()),
        ]
    }

    /// Plays a `hz` tone of `seconds` into the null sink (what the default microphone
    /// hears), with `paplay`; the returned process plays on until it ends or is dropped.
    pub fn play_tone(&self, hz: f32, seconds: u32) -> Player {
        let wav = self.dir.path().join(format!("tone-{hz}.wav"));
        std::fs::write(&wav, tone_wav(hz, seconds)).expect("the tone's file");
        let child = Command::new("paplay")
            .args(["--device=flint_speaker"])
            .arg(&wav)
            .envs(self.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("paplay starts (pulseaudio-utils)");
        Player(child)
    }

    fn pactl(&self, args: &[&str]) -> bool {
        Command::new("pactl")
            .args(args)
            .envs(self.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// A tone being played; stopped when dropped.
pub struct Player(Child);

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WAV file (48 kHz, mono, 16-bit) of a `hz` tone lasting `seconds`.
fn tone_wav(hz: f32, seconds: u32) -> Vec<u8> {
    const RATE: u32 = 48_000;
    let samples = RATE * seconds;
    let mut wav = Vec::with_capacity(44 + samples as usize * 2);
    let mut put = |bytes: &[u8]| wav.extend_from_slice(bytes);
    put(b"RIFF");
    put(&(36 + samples * 2).to_le_bytes());
    put(b"WAVEfmt ");
    put(&16u32.to_le_bytes());
    put(&1u16.to_le_bytes());
    put(&1u16.to_le_bytes());
    put(&RATE.to_le_bytes());
    put(&(RATE * 2).to_le_bytes());
    put(&2u16.to_le_bytes());
    put(&16u16.to_le_bytes());
    put(b"data");
    put(&(samples * 2).to_le_bytes());
    for i in 0..samples {
        let phase = (i % RATE) as f32 * hz * std::f32::consts::TAU / RATE as f32;
        put(&((phase.sin() * 12_000.0) as i16).to_le_bytes());
    }
    wav
}

impl Drop for PulseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
