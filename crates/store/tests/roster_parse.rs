//! The roster parser takes files from outside: arbitrary bytes, and real workbooks with bytes
//! changed anywhere, are refused or read without a panic, and what it keeps stays bounded.

use jineng_store::roster::{parse, HEADERS, MAX_ERRORS};
use proptest::prelude::*;
use std::sync::OnceLock;

/// A real roster of a few rows, some wrong.
fn workbook() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in HEADERS.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for r in 1..20u32 {
            ws.write_string(r, 0, format!("41172219880229{:04}", r)).unwrap();
            ws.write_string(r, 1, "李娜").unwrap();
            ws.write_string(r, 2, "poor_worker").unwrap();
            ws.write_string(r, 3, "2020-01-01").unwrap();
        }
        wb.save_to_buffer().unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_are_refused_without_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn a_workbook_with_bytes_changed_is_refused_or_read_within_bounds(
        changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)
    ) {
        let mut bytes = workbook().to_vec();
        for (at, b) in changes {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok((rows, errors)) = parse(&bytes) {
            prop_assert!(rows.len() + errors.len() <= 40);
            prop_assert!(errors.len() <= MAX_ERRORS + 1);
        }
    }
}
