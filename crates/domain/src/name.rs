//! People's names as the public and the parties a claim does not pay may see them.

/// `张三` → `张*`, `张小三` → `张*三`, `欧阳小三` → `欧**三`.
pub fn mask(name: &str) -> String {
    let c: Vec<char> = name.chars().collect();
    match c.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", c[0]),
        n => format!("{}{}{}", c[0], "*".repeat(n - 2), c[n - 1]),
    }
}
