//! Terminal output: aligned tables, colour only on a TTY without `NO_COLOR`.

use std::io::IsTerminal;

use owo_colors::OwoColorize;

use crate::env::{no_color, Env};

/// Whether stdout should get colour.
pub fn color_enabled(env: &dyn Env) -> bool {
    std::io::stdout().is_terminal() && !no_color(env)
}

/// How a cell is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Warn,
    Bad,
    Dim,
}

/// Renders rows under a header, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<(String, Tone)>], color: bool) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, (cell, _)) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let head: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| pad(h, widths[i]))
        .collect();
    let head = head.join("  ");
    if color {
        out.push_str(&head.trim_end().bold().to_string());
    } else {
        out.push_str(head.trim_end());
    }
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, (cell, tone))| {
                let padded = pad(cell, widths.get(i).copied().unwrap_or(0));
                if !color {
                    return padded;
                }
                match tone {
                    Tone::Plain => padded,
                    Tone::Good => padded.green().to_string(),
                    Tone::Warn => padded.yellow().to_string(),
                    Tone::Bad => padded.red().to_string(),
                    Tone::Dim => padded.dimmed().to_string(),
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

/// `1h 02m`, `45s`, `—` for zero.
pub fn duration_ms(ms: u64) -> String {
    let secs = ms.div_ceil(1000);
    match secs {
        0 => "—".to_owned(),
        1..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests;
