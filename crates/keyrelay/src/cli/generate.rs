//! Shell completions and manual pages, generated from the command line's
//! definition so they never drift from `--help`.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use super::Cli;

/// Writes `shell`'s completion script for `keyrelay`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "keyrelay", out);
}

/// Writes the main manual page, `keyrelay(1)`, as roff.
pub fn man_page(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command().disable_help_subcommand(true)).render(out)
}

/// Writes `keyrelay.1` and one page per command (`keyrelay-serve.1`,
/// `keyrelay-keys-check.1`, …) into `dir`, making it if needed.
pub fn man_pages(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)
}
