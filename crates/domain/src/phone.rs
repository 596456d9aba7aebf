//! Phone numbers as people may see them.

/// `13812345678` → `138****5678`; a short number is all stars.
pub fn mask(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    if c.len() < 7 {
        return "*".repeat(c.len());
    }
    format!("{}****{}", c[..3].iter().collect::<String>(), c[c.len() - 4..].iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_phone_keeps_its_first_three_and_last_four_digits() {
        assert_eq!(super::mask("13812345678"), "138****5678");
        assert_eq!(super::mask("12345"), "*****");
    }
}
