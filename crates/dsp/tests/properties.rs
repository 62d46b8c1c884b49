//! Whatever values arrive, the output stays finite and within ±1.0.

use chronus_dsp::{ModuleKind, Patch};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_parameter_values_keep_output_finite_and_bounded(
        sets in prop::collection::vec((0usize..4, 0u8..5, any::<f32>()), 1..40),
        gates in prop::collection::vec(any::<bool>(), 1..10),
    ) {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let lfo = p.find("lfo").unwrap();
        let sine = p.find("sine").unwrap();
        p.modulate(lfo, sine, 0).unwrap();
        let ids: Vec<_> = p.describe().iter().map(|d| (d.id, d.kind)).collect();
        let mut out = [0.0f32; 64];
        for (i, (m, param, v)) in sets.iter().enumerate() {
            let (id, kind) = ids[*m];
            let r = p.set_param(id, *param, *v);
            if (*param as usize) >= kind.params().len() || !v.is_finite() {
                prop_assert!(r.is_err());
            } else {
                prop_assert!(r.is_ok());
            }
            if kind == ModuleKind::Adsr {
                p.gate(id, gates[i % gates.len()]).unwrap();
            }
            for _ in 0..20 {
                p.process(&mut out);
                prop_assert!(out.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
            }
        }
    }
}
