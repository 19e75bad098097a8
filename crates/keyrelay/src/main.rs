// Many small, short-lived allocations per request (headers, bodies, JSON):
// mimalloc serves them with less CPU than the system allocator (measured
// with `scripts/bench`, see the README's performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    keyrelay::cli::main()
}
