//! Upload load benchmark (issue 3): being written.

fn main() {
    println!("upload benchmark: not written yet");
}
