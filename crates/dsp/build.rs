//! Writes the minBLEP residual table (`src/minblep.rs`) as Rust source into `OUT_DIR`: its
//! design (`build/minblep.rs`) takes four large FFTs, paid here once instead of by every
//! process that makes an oscillator (a replacement worker among them).

use std::fmt::Write as _;

#[path = "build/minblep.rs"]
mod minblep;

fn main() {
    println!("cargo::rerun-if-changed=build/minblep.rs");
    let table = minblep::build();
    assert_eq!(table.len(), minblep::POINTS + 1);
    let mut src = String::new();
    let _ = writeln!(
        src,
        "/// Samples a band-limited step's residual lasts (the correction ring's length).\n\
         pub const LEN: usize = {};\n\
         /// Table points per sample.\n\
         const PHASES: usize = {};\n\
         /// Table points in all (one more, zero, at the end for the interpolation).\n\
         const POINTS: usize = {};\n\
         /// The residual (band-limited step less ideal step) at `PHASES` points a sample, bit \
         for bit as designed.\n\
         static TABLE: [f32; {}] = [",
        minblep::LEN,
        minblep::PHASES,
        minblep::POINTS,
        table.len()
    );
    for v in table.iter() {
        let _ = writeln!(src, "    f32::from_bits({:#010x}),", v.to_bits());
    }
    src.push_str("];\n");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("minblep_table.rs"), src).expect("OUT_DIR is writable");
}
