fn main() -> std::process::ExitCode {
    keyrelay::cli::main()
}
