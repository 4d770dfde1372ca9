fn main() {
    std::process::exit(i32::from(s6rs_frontend::main(std::env::args_os().collect())))
}
